"""Reads at the driver return what the ORM returns for the same row."""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services
from store.repositories.credentials import find_credential_key
from store.repositories.workflows import create_missing_workflows
from workflows import credentials
from workflows.clock import ManualClock


async def test_a_credential_key_matches_the_orm_row(services: Services, clock: ManualClock) -> None:
    """Scopes come back as a list and times as aware UTC datetimes, as through the ORM."""
    async with services.sessions() as db, db.begin():
        await create_missing_workflows(db, services.config.workflows, clock())
        _, credential = await credentials.create_token(
            db,
            workflow="ticket-triage",
            scopes=("runs:write", "admin"),
            expires_in=timedelta(days=90),
            label="ci",
            now=clock(),
        )
        credential.revoked_at = clock() + timedelta(seconds=1.5)

    key = await find_credential_key(services.engine, credential.prefix)

    assert key is not None
    assert (key.id, key.workflow, key.secret_hash) == (
        credential.id,
        credential.workflow,
        credential.secret_hash,
    )
    assert key.scopes == ["admin", "runs:write"]
    assert key.expires_at == credential.expires_at
    assert key.revoked_at == credential.revoked_at
    assert key.expires_at is not None
    assert key.expires_at.utcoffset() == timedelta(0)
    assert key.last_used_at is None


async def test_an_unknown_prefix_finds_nothing(services: Services) -> None:
    """A prefix no credential has is None, not an error."""
    assert await find_credential_key(services.engine, "000000000000") is None
