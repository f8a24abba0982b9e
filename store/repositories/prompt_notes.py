"""Prompt notes: why each prompt version was made. One per version; rows are only added."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import PromptNote


async def list_prompt_notes(db: AsyncSession, *, workflow: str) -> Sequence[PromptNote]:
    query = select(PromptNote).where(PromptNote.workflow == workflow).order_by(PromptNote.id)
    return (await db.scalars(query)).all()


async def get_prompt_note(db: AsyncSession, *, workflow: str, version: str) -> PromptNote | None:
    query = select(PromptNote).where(PromptNote.workflow == workflow, PromptNote.version == version)
    return (await db.scalars(query)).first()


async def create_prompt_note(db: AsyncSession, note: PromptNote) -> None:
    db.add(note)
    await db.flush()
