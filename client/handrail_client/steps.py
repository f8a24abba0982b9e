"""A timed step (a model call or a tool call) and the text kept when something fails.

Durations come from a monotonic timer, never from the wall clock, and ``ended_at`` is
derived from ``started_at`` plus that duration: a clock adjustment in the middle of a step
can neither make it negative nor make the server reject it as ending before it started.
"""

from __future__ import annotations

import asyncio
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from handrail_client.payloads import Event

#: The kinds of step API v1 records.
EventType = Literal["prompt", "model", "tool", "retry", "action", "error", "note"]

Timer = Callable[[], float]

#: The longest error text the server accepts (API v1).
MAX_TEXT = 200_000
_HEAD = 2_000


def new_event_id() -> str:
    """A client event ID: chosen before the first send, so a resend is recognised."""
    return uuid.uuid4().hex


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Fit ``text`` in ``limit`` characters, keeping its start and its end (the message)."""
    if len(text) <= limit:
        return text
    marker = "\n... [{} characters cut] ...\n"
    cut = len(text) - limit + len(marker.format(len(text)))
    return text[:_HEAD] + marker.format(cut) + text[_HEAD + cut :]


def full_traceback(exc: BaseException) -> str:
    """The text of an exception as Python prints it, unclipped: type, message, traceback."""
    return "".join(traceback.format_exception(exc))


def format_error(exc: BaseException) -> str:
    """The full text of an exception, clipped to what the server keeps."""
    return clip(full_traceback(exc))


def describe_error(exc: BaseException) -> str:
    """One line naming an exception: ``ValueError: bad input``."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Step:
    """One model or tool call in progress; set ``output`` and token counts before it ends."""

    def __init__(
        self,
        type: EventType,
        name: str,
        *,
        input: Any = None,
        model: str | None = None,
        settings: dict[str, Any] | None = None,
        prompt_version: str | None = None,
    ) -> None:
        self.id = new_event_id()
        self.type: EventType = type
        self.name = name
        self.input = input
        self.output: Any = None  # made JSON-safe when recorded (``payloads.json_safe``)
        self.model = model
        self.settings = settings
        self.prompt_version = prompt_version
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.status: str | None = None
        self.error: str | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.duration_ms: float | None = None
        self._started: float | None = None

    def begin(self, timer: Timer) -> None:
        self.started_at = datetime.now(UTC)
        self._started = timer()

    def end(self, timer: Timer, error: BaseException | None = None) -> None:
        """Stop the clock; an error marks the step failed (or cancelled) with its full text."""
        if self._started is None or self.started_at is None:
            raise RuntimeError(f"step '{self.name}' ended before it began")
        elapsed = max(timer() - self._started, 0.0)
        self.duration_ms = elapsed * 1000
        self.ended_at = self.started_at + timedelta(seconds=elapsed)
        if error is None:
            self.status = self.status or "ok"
            return
        self.status = "cancelled" if isinstance(error, asyncio.CancelledError) else "error"
        self.error = format_error(error)

    def to_event(self) -> Event:
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "model": self.model,
            "settings": self.settings,
            "prompt_version": self.prompt_version,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
        }
