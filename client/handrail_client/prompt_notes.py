"""The prompt-version changelog: say why a version was made, read which ones nobody explained.

A note per version (``POST /api/v1/workflows/{name}/prompt-notes``); the server keeps the
first one and refuses a second with :class:`ConflictError`. The review metrics split every
figure by prompt version, so a note is what tells a reader why the numbers moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handrail_client.client import HandrailClient


@dataclass(frozen=True, slots=True)
class PromptNote:
    version: str
    reason: str
    author: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PromptChangelog:
    notes: list[PromptNote]
    unexplained: list[str]
    """Versions the runs named that have no note."""


def _note(answer: dict[str, Any]) -> PromptNote:
    return PromptNote(
        version=answer["version"],
        reason=answer["reason"],
        author=answer["author"],
        created_at=answer["created_at"],
    )


async def add_prompt_note(
    client: HandrailClient, workflow: str, version: str, reason: str, *, author: str | None
) -> PromptNote:
    body: dict[str, Any] = {"version": version, "reason": reason}
    if author is not None:
        body["author"] = author
    url = client.transport.url("api", "v1", "workflows", workflow, "prompt-notes")
    return _note(await client.transport.request("POST", url, body))


async def prompt_changelog(client: HandrailClient, workflow: str) -> PromptChangelog:
    url = client.transport.url("api", "v1", "workflows", workflow, "prompt-notes")
    answer = await client.transport.request("GET", url)
    return PromptChangelog(
        notes=[_note(note) for note in answer["notes"]],
        unexplained=[str(version) for version in answer["unexplained"]],
    )
