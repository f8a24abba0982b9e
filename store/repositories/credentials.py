"""Credential queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from store.driver import DriverQuery
from store.models import Credential


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """What checking a presented token needs of its credential, and nothing more."""

    id: str
    workflow: str
    secret_hash: str
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


_KEY_BY_PREFIX = DriverQuery(
    select(
        Credential.id,
        Credential.workflow,
        Credential.secret_hash,
        Credential.scopes,
        Credential.expires_at,
        Credential.revoked_at,
        Credential.last_used_at,
    ).where(Credential.prefix == bindparam("prefix"))
)


async def find_credential_key(engine: AsyncEngine, prefix: str) -> CredentialKey | None:
    """The credential with ``prefix``, read at the driver: every API request does this."""
    row = await _KEY_BY_PREFIX.first(engine, prefix=prefix)
    return None if row is None else CredentialKey(*row)


def create_credential(db: AsyncSession, credential: Credential) -> None:
    db.add(credential)


async def get_credential(db: AsyncSession, credential_id: str) -> Credential | None:
    return await db.get(Credential, credential_id)


async def get_credential_by_prefix(db: AsyncSession, prefix: str) -> Credential | None:
    result = await db.execute(select(Credential).where(Credential.prefix == prefix))
    return result.scalar_one_or_none()


async def list_credentials(db: AsyncSession, workflow: str | None = None) -> Sequence[Credential]:
    query = select(Credential).order_by(Credential.workflow, Credential.created_at)
    if workflow is not None:
        query = query.where(Credential.workflow == workflow)
    return (await db.execute(query)).scalars().all()


async def update_credential_last_used(db: AsyncSession, credential_id: str, at: datetime) -> None:
    await db.execute(
        update(Credential).where(Credential.id == credential_id).values(last_used_at=at)
    )
