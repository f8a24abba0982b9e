"""The run in progress, kept in a context variable so helpers deep in the call stack can
record steps without the run being passed to them.

``async with client.run() as run`` and ``with sync_client.run() as run`` make ``run`` the
current run until the block ends. A context variable follows asyncio tasks (each task
starts with a copy of its creator's context) but not threads: a thread pool worker sees no
current run unless the code hands it over (``contextvars.copy_context().run(...)``).
"""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from handrail_client.runs import Run
    from handrail_client.sync import SyncRun

AnyRun: TypeAlias = "Run | SyncRun"

_current: ContextVar[AnyRun | None] = ContextVar("handrail_current_run", default=None)


def current_run() -> Run | SyncRun | None:
    """The run whose ``with`` block the caller is in, or None outside any run."""
    return _current.get()


def enter_run(run: AnyRun) -> Token[AnyRun | None]:
    return _current.set(run)


def leave_run(token: Token[AnyRun | None]) -> None:
    # Left in another context than it was entered in: nothing to undo in this one.
    with suppress(ValueError):
        _current.reset(token)
