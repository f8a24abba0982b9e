"""Renderers: how the outbox worker turns ``{"render", "ref"}`` into a Slack message.

The domain queues *what* to show (``render="handoff", ref=handoff_id``), never Block Kit;
the worker looks the renderer up here and renders the record as it stands when the message
is sent. An update queued an hour ago during an outage therefore shows today's state, and
two updates of one message show the same thing, which is what makes updates idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.blocks import Message, decision_thread_reply, draft_part_message, handoff_message
from workflows.review.handoffs import (
    DECISION_REPLY_RENDER,
    DRAFT_PART_RENDER,
    HANDOFF_RENDER,
    load_draft_part,
    load_handoff_view,
)

Render = Callable[[AsyncSession, str], Awaitable[Message]]
"""``async def render(db, ref) -> Message``: reads only, in the worker's session."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadFile:
    name: str
    """The file name stem; the worker makes it unique to the outbox row."""
    title: str
    alt: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """Files to share in one message, and the text that introduces them."""

    files: list[UploadFile]
    comment: str


RenderUpload = Callable[[AsyncSession, str], Awaitable[Upload]]
"""``async def render(db, ref) -> Upload`` for ``slack.upload`` rows: reads only."""


class UnknownRenderer(LookupError):
    """A row names a renderer nobody registered: a bug or a version skew, never retried."""


class Renderers:
    """A registry of renderers by name; extra ones (tests, new message kinds) register."""

    def __init__(self, renderers: Mapping[str, Render] | None = None) -> None:
        self._renderers: dict[str, Render] = {}
        self._uploads: dict[str, RenderUpload] = {}
        for name, render in (renderers or {}).items():
            self.register(name, render)

    def register(self, name: str, render: Render) -> None:
        """Add ``render`` under ``name``; a name is registered once."""
        if name in self._renderers:
            raise ValueError(f"a renderer named {name!r} is already registered")
        self._renderers[name] = render

    def register_upload(self, name: str, render: RenderUpload) -> None:
        """Add the upload renderer ``render`` under ``name``; a name is registered once."""
        if name in self._uploads:
            raise ValueError(f"an upload renderer named {name!r} is already registered")
        self._uploads[name] = render

    async def render_upload(self, db: AsyncSession, name: str, ref: str) -> Upload:
        """The files ``name`` draws for ``ref`` now."""
        render = self._uploads.get(name)
        if render is None:
            known = ", ".join(sorted(self._uploads)) or "none"
            raise UnknownRenderer(f"no upload renderer named {name!r} (registered: {known})")
        return await render(db, ref)

    def __contains__(self, name: object) -> bool:
        return name in self._renderers

    def __iter__(self) -> Iterator[str]:
        return iter(self._renderers)

    async def render(self, db: AsyncSession, name: str, ref: str) -> Message:
        """The message ``name`` shows for ``ref`` now."""
        render = self._renderers.get(name)
        if render is None:
            known = ", ".join(sorted(self._renderers)) or "none"
            raise UnknownRenderer(f"no renderer named {name!r} (registered: {known})")
        return await render(db, ref)


async def render_handoff(db: AsyncSession, handoff_id: str) -> Message:
    """The handoff message, with buttons while it is pending and the outcome after."""
    return handoff_message(await load_handoff_view(db, handoff_id))


async def render_decision_reply(db: AsyncSession, handoff_id: str) -> Message:
    """The thread reply that says who decided what."""
    return decision_thread_reply(await load_handoff_view(db, handoff_id))


async def render_draft_part(db: AsyncSession, ref: str) -> Message:
    """One part of a long draft, in the thread of its handoff message."""
    view, number = await load_draft_part(db, ref)
    return draft_part_message(view, number)


def default_renderers() -> Renderers:
    """Every renderer the domain names today."""
    return Renderers(
        {
            HANDOFF_RENDER: render_handoff,
            DECISION_REPLY_RENDER: render_decision_reply,
            DRAFT_PART_RENDER: render_draft_part,
        }
    )
