"""Credential queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Credential


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
