"""The prompt-version changelog: a note per version, and the versions nobody explained.

A note says why a version was made and who made it; a version the runs named with no note
is listed as unexplained, so a change nobody owns stands out. One note per version: a
second one is refused (409) with the first quoted, as the changelog is a record, not a draft.
The same note sent again (a client retrying after a lost answer) is answered with the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import PromptNote
from store.repositories import prompt_notes as rows
from store.repositories.stats import prompt_versions_seen
from workflows.errors import Conflict, InvalidInput


class PromptNoteBody(BaseModel):
    """A change note for one prompt version of the token's workflow."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    author: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Who made the change; the token's own name (``api:<credential>``) when left out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionSeen:
    version: str | None
    first_seen: datetime
    runs: int
    note: PromptNote | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Changelog:
    notes: list[PromptNote]
    versions: list[VersionSeen]

    @property
    def unexplained(self) -> list[VersionSeen]:
        return [seen for seen in self.versions if seen.version and seen.note is None]

    def to_json(self) -> dict[str, Any]:
        return {
            "notes": [note_json(note) for note in self.notes],
            "versions": [
                {
                    "version": seen.version,
                    "first_seen": seen.first_seen.isoformat(),
                    "runs": seen.runs,
                    "explained": seen.note is not None,
                }
                for seen in self.versions
            ],
            "unexplained": [seen.version for seen in self.unexplained],
        }


def note_json(note: PromptNote) -> dict[str, Any]:
    return {
        "version": note.version,
        "reason": note.reason,
        "author": note.author,
        "created_at": note.created_at.isoformat(),
    }


async def add_prompt_note(
    db: AsyncSession, *, workflow: str, version: str, reason: str, author: str, now: datetime
) -> tuple[PromptNote, bool]:
    """Record why ``version`` was made: the note, and whether it is new.

    Refused if blank, or if the version has a different note already.
    """
    version, reason = version.strip(), reason.strip()
    if not version or not reason:
        where = "version" if not version else "reason"
        raise InvalidInput(f"the {where} is empty; nothing was recorded", details=[{"loc": where}])
    existing = await rows.get_prompt_note(db, workflow=workflow, version=version)
    if existing is not None:
        if (existing.reason, existing.author) == (reason, author):
            return existing, False
        raise _already_noted(existing)
    note = PromptNote(
        workflow=workflow, version=version, reason=reason, author=author, created_at=now
    )
    try:
        async with db.begin_nested():
            await rows.create_prompt_note(db, note)
    except IntegrityError:  # a note for the same version committed in between
        found = await rows.get_prompt_note(db, workflow=workflow, version=version)
        raise _already_noted(found) from None
    return note, True


def _already_noted(note: PromptNote | None) -> Conflict:
    said = f" by {note.author} on {note.created_at:%Y-%m-%d}: {note.reason}" if note else ""
    return Conflict(
        f"prompt version '{note.version if note else ''}' already has a note{said}; "
        "nothing was recorded",
        details=[{"loc": "version"}],
    )


async def read_changelog(db: AsyncSession, *, workflow: str) -> Changelog:
    notes = list(await rows.list_prompt_notes(db, workflow=workflow))
    by_version = {note.version: note for note in notes}
    seen = await prompt_versions_seen(db, workflow=workflow)
    return Changelog(
        notes=notes,
        versions=[
            VersionSeen(
                version=version,
                first_seen=first,
                runs=runs,
                note=by_version.get(version) if version else None,
            )
            for version, first, runs in seen
        ],
    )
