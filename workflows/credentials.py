"""Workflow tokens: service accounts with scopes and an expiry, stored only as a hash.

A token reads ``hr_<prefix>_<secret>``. The prefix finds the row without scanning; the
secret is 256 random bits, so a plain SHA-256 is the right hash (no password stretching is
needed for a value nobody chose), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from store.models import Credential
from store.repositories import credentials as repo
from workflows.audit.entries import SYSTEM_ACTOR, append_token_entry
from workflows.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from workflows.identifiers import new_id

SCOPES = ("runs:write", "runs:read", "handoffs:write", "admin")
DEFAULT_SCOPES = ("runs:write", "runs:read", "handoffs:write")
TOKEN_PREFIX = "hr_"  # noqa: S105 - the public marker of a token, not a secret
_LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API: a workflow, through one of its credentials."""

    workflow: str
    credential_id: str
    scopes: frozenset[str]
    last_used_stale: bool = False

    def require(self, scope: str) -> None:
        """Raise ``Forbidden`` unless this credential carries ``scope`` (``admin`` has all)."""
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(
                f"this token for '{self.workflow}' lacks the '{scope}' scope; "
                f"create one with: handrail token create {self.workflow} "
                + " ".join(f"--scope {each}" for each in sorted(self.scopes | {scope})),
                details=[{"loc": "authorization", "scope": scope}],
            )


class RejectedToken(Unauthenticated):
    """A real token that was revoked or has expired: someone still uses it.

    Refused like any bad token; the API also counts it on the credential
    (``workflows.alerts.tokens.record_rejected_token``) so on-call is alerted. The
    credential ID stays out of ``details``, which go back to the caller.
    """

    def __init__(self, message: str, *, credential_id: str) -> None:
        super().__init__(message)
        self.credential_id = credential_id


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    db: AsyncSession,
    *,
    workflow: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    expires_in: timedelta | None,
    label: str | None,
    now: datetime,
    actor: str = SYSTEM_ACTOR,
) -> tuple[str, Credential]:
    """Create a credential and return the token, which is never shown again.

    ``actor`` is who the audit log names for it (``cli:<user>`` from the command line).
    """
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}",
            details=[{"loc": "scope", "value": value} for value in unknown],
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    credential = Credential(
        id=new_id("cred"),
        workflow=workflow,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        label=label,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    repo.create_credential(db, credential)
    await append_token_entry(db, credential=credential, created=True, actor=actor, now=now)
    return f"{TOKEN_PREFIX}{prefix}_{secret}", credential


async def authenticate(
    engine: AsyncEngine, *, authorization: str | None, now: datetime
) -> Principal:
    """Resolve an ``Authorization: Bearer`` header to a principal, or raise ``Unauthenticated``.

    Only reads, in one statement outside any unit of work (it runs on every request); when
    ``last_used_stale`` is set the caller records the use separately.
    """
    if not authorization:
        raise Unauthenticated("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated("the Authorization header must be 'Bearer hr_...'")
    prefix, _, secret = token.removeprefix(TOKEN_PREFIX).partition("_")
    credential = await repo.find_credential_key(engine, prefix)
    if credential is None or not hmac.compare_digest(credential.secret_hash, _hash(secret)):
        raise Unauthenticated("unknown token")
    if credential.revoked_at is not None:
        raise RejectedToken(f"token {prefix} was revoked", credential_id=credential.id)
    if credential.expires_at is not None and credential.expires_at <= now:
        raise RejectedToken(
            f"token {prefix} expired at {credential.expires_at:%Y-%m-%d %H:%M} UTC",
            credential_id=credential.id,
        )
    last_used = credential.last_used_at
    return Principal(
        workflow=credential.workflow,
        credential_id=credential.id,
        scopes=frozenset(credential.scopes),
        last_used_stale=last_used is None or now - last_used > _LAST_USED_GRANULARITY,
    )


async def record_token_use(db: AsyncSession, *, principal: Principal, now: datetime) -> None:
    """Note that the token was used; kept to once a minute so reads stay reads."""
    await repo.update_credential_last_used(db, principal.credential_id, now)


async def revoke_token(
    db: AsyncSession, *, prefix_or_id: str, now: datetime, actor: str = SYSTEM_ACTOR
) -> Credential:
    """Revoke by prefix, credential ID or the whole token; revoking twice keeps the first time.

    A whole token (what a person has at hand after a leak) is reduced to its prefix.
    """
    if prefix_or_id.startswith(TOKEN_PREFIX):
        prefix_or_id = prefix_or_id.removeprefix(TOKEN_PREFIX).partition("_")[0]
    credential = await repo.get_credential_by_prefix(db, prefix_or_id)
    if credential is None:
        credential = await repo.get_credential(db, prefix_or_id)
    if credential is None:
        raise NotFound(f"no token with prefix or ID '{prefix_or_id}'; see: handrail token list")
    if credential.revoked_at is None:
        credential.revoked_at = now
        await append_token_entry(db, credential=credential, created=False, actor=actor, now=now)
    return credential
