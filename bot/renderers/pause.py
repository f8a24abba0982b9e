"""The outbox renderer of pause and resume notices, registered beside the others.

``workflows.pause.switch`` queues ``{"render": "pause_notice", "ref": <audit entry id>}`` for each
alert channel; this renders the audit entry as it stands. Register it once where the
worker's renderers are built: ``renderers_pause.register(renderers)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.blocks import Message
from handlers.blocks.pause import pause_notice_message
from workflows.pause.notice import load_pause_notice
from workflows.pause.switch import PAUSE_NOTICE_RENDER

Render = Callable[[AsyncSession, str], Awaitable[Message]]


class RendererRegistry(Protocol):
    """What is used of ``bot.renderers.registry.Renderers``."""

    def register(self, name: str, render: Render) -> None: ...


async def render_pause_notice(db: AsyncSession, ref: str) -> Message:
    """The notice for the pause or resume recorded as audit entry ``ref``."""
    return pause_notice_message(await load_pause_notice(db, ref))


def register(renderers: RendererRegistry) -> None:
    """Add the pause notice renderer to the worker's registry."""
    renderers.register(PAUSE_NOTICE_RENDER, render_pause_notice)
