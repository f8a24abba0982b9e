"""``HandrailSyncClient``: the same client for code that is not async.

There is one implementation: the async client runs on a private event loop in a
background thread, and each sync call hands its coroutine to that loop and waits. Retries,
batching, de-duplication and errors are therefore exactly those of ``HandrailClient``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping
from contextvars import Token
from types import TracebackType
from typing import Any, TypeVar

from handrail_client.client import (
    DEFAULT_MAX_BODY_BYTES,
    FinishedRun,
    HandrailClient,
    LoggedEvents,
    StartedRun,
)
from handrail_client.config import resolve_connection
from handrail_client.context import AnyRun, enter_run, leave_run
from handrail_client.parking import ParkedJob, WorkflowInfo
from handrail_client.payloads import Event
from handrail_client.prompt_notes import PromptChangelog, PromptNote
from handrail_client.review import ActRecord, Decision, GateResult
from handrail_client.runs import FinishStatus, Run, StepBlock
from handrail_client.steps import Step, Timer
from handrail_client.transport import Sleep, Wait

T = TypeVar("T")


class _LoopThread:
    """An event loop of our own, running forever in a daemon thread until stopped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # A daemon thread, so a client that is never closed cannot keep the process alive.
        self.thread = threading.Thread(target=self.loop.run_forever, name="handrail-client")
        self.thread.daemon = True
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a sync Handrail call was made from the client's own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt: do not leave the call running alone
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class SyncStepBlock:
    """``with run.tool(...) as step``: the async step block, driven from this thread."""

    def __init__(self, loop: _LoopThread, block: StepBlock) -> None:
        self._loop = loop
        self._block = block

    def __enter__(self) -> Step:
        return self._loop.call(self._block.__aenter__())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._loop.call(self._block.__aexit__(exc_type, exc, tb))


class SyncRun:
    """A run for sync code: ``with client.run(...) as run``; same rules as ``Run``."""

    def __init__(self, loop: _LoopThread, run: Run) -> None:
        self._loop = loop
        self.async_run = run
        self._context: Token[AnyRun | None] | None = None

    @property
    def run_id(self) -> str:
        return self.async_run.run_id

    @property
    def status(self) -> str | None:
        return self.async_run.status

    @property
    def result(self) -> Any:
        return self.async_run.result

    @result.setter
    def result(self, value: Any) -> None:
        self.async_run.result = value

    @property
    def pending(self) -> tuple[Event, ...]:
        return self.async_run.pending

    def __enter__(self) -> SyncRun:
        self._loop.call(self.async_run.start())
        self._context = enter_run(self)  # ``handrail_client.current_run()`` in the block
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._context is not None:
            leave_run(self._context)
            self._context = None
        self._loop.call(self.async_run.__aexit__(exc_type, exc, tb))

    def record(self, event: Event) -> None:
        self._loop.call(self.async_run.record(event))

    def buffer_soon(self, event: Event) -> None:
        """Queue a step on the client's loop without waiting: safe from any thread or loop."""
        self._loop.loop.call_soon_threadsafe(self.async_run.buffer, event)

    def flush(self) -> None:
        self._loop.call(self.async_run.flush())

    def finish(
        self,
        status: FinishStatus = "succeeded",
        *,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        self._loop.call(self.async_run.finish(status, result=result, error=error))

    def review(self, *, action: str, **question: Any) -> Decision:
        """Ask the gate and wait for a person if needed; see ``Run.review``."""
        return self._loop.call(self.async_run.review(action=action, **question))

    def act(self, decision: Decision) -> ActRecord | None:
        """State that the approval is acted on; see ``Run.act``."""
        return self._loop.call(self.async_run.act(decision))

    def park(self, *, last_step: str, **context: Any) -> ParkedJob:
        """Keep the unfinished job with its context; see ``Run.park``."""
        return self._loop.call(self.async_run.park(last_step=last_step, **context))

    def prompt(self, name: str, text: str, *, version: str | None = None) -> None:
        self._loop.call(self.async_run.prompt(name, text, version=version))

    def note(self, name: str, text: str) -> None:
        self._loop.call(self.async_run.note(name, text))

    def action(self, name: str, *, input: Any = None, output: Any = None) -> None:
        self._loop.call(self.async_run.action(name, input=input, output=output))

    def error(self, name: str, text: str) -> None:
        self._loop.call(self.async_run.error(name, text))

    def model(
        self,
        name: str,
        *,
        model: str,
        settings: dict[str, Any] | None = None,
        prompt_version: str | None = None,
    ) -> SyncStepBlock:
        block = self.async_run.model(
            name, model=model, settings=settings, prompt_version=prompt_version
        )
        return SyncStepBlock(self._loop, block)

    def tool(self, name: str, *, input: Any = None) -> SyncStepBlock:
        return SyncStepBlock(self._loop, self.async_run.tool(name, input=input))


class HandrailSyncClient:
    """Blocking twin of ``HandrailClient`` (same arguments); ``with`` it or ``close()`` it."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        max_attempts: int = 5,
        batch_size: int = 50,
        deadline: float = 60.0,
        wait: Wait | None = None,
        sleep: Sleep = asyncio.sleep,
        timer: Timer = time.perf_counter,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        base_url, token = resolve_connection(base_url, token)
        self._loop = _LoopThread()

        async def make() -> HandrailClient:
            # Built on the private loop, so everything it creates belongs to that loop.
            return HandrailClient(
                base_url,
                token,
                timeout=timeout,
                max_attempts=max_attempts,
                batch_size=batch_size,
                deadline=deadline,
                wait=wait,
                sleep=sleep,
                timer=timer,
                max_body_bytes=max_body_bytes,
            )

        try:
            self.client = self._loop.call(make())
        except BaseException:
            self._loop.stop()
            raise

    def __enter__(self) -> HandrailSyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            try:
                self._loop.call(self.client.close())
            finally:
                self._loop.stop()

    def run(
        self,
        run_id: str | None = None,
        *,
        input_source: str | None = None,
        prompt_version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SyncRun:
        run = self.client.run(
            run_id,
            input_source=input_source,
            prompt_version=prompt_version,
            model=model,
            metadata=metadata,
        )
        return SyncRun(self._loop, run)

    def start_run(
        self,
        *,
        run_id: str | None = None,
        input_source: str | None = None,
        prompt_version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StartedRun:
        return self._loop.call(
            self.client.start_run(
                run_id=run_id,
                input_source=input_source,
                prompt_version=prompt_version,
                model=model,
                metadata=metadata,
            )
        )

    def log_events(self, run_id: str, events: Iterable[Mapping[str, Any]]) -> LoggedEvents:
        return self._loop.call(self.client.log_events(run_id, list(events)))

    def finish_run(
        self,
        run_id: str,
        status: FinishStatus,
        *,
        result: Any = None,
        error: str | None = None,
    ) -> FinishedRun:
        return self._loop.call(self.client.finish_run(run_id, status, result=result, error=error))

    def gate(self, run_id: str, *, action: str, **question: Any) -> GateResult:
        return self._loop.call(self.client.gate(run_id, action=action, **question))

    def review(self, run_id: str, *, action: str, **question: Any) -> Decision:
        return self._loop.call(self.client.review(run_id, action=action, **question))

    def act(self, handoff_id: str, approval_digest: str) -> ActRecord:
        return self._loop.call(self.client.act(handoff_id, approval_digest))

    def open_handoff(self, run_id: str, *, kind: str, summary: str, **fields: Any) -> str:
        return self._loop.call(
            self.client.open_handoff(run_id, kind=kind, summary=summary, **fields)
        )

    def wait_for_decision(
        self, handoff_id: str, *, max_wait: float, draft: str | None = None
    ) -> Decision:
        return self._loop.call(
            self.client.wait_for_decision(handoff_id, max_wait=max_wait, draft=draft)
        )

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self._loop.call(self.client.get_run(run_id))

    def park(self, run_id: str, *, last_step: str, **context: Any) -> ParkedJob:
        return self._loop.call(self.client.park(run_id, last_step=last_step, **context))

    def claim_resumed(self, *, limit: int = 1) -> list[ParkedJob]:
        return self._loop.call(self.client.claim_resumed(limit=limit))

    def get_parked(self, parked_id: str) -> ParkedJob:
        return self._loop.call(self.client.get_parked(parked_id))

    def get_workflow(self, name: str) -> WorkflowInfo:
        return self._loop.call(self.client.get_workflow(name))

    def add_prompt_note(
        self, workflow: str, version: str, reason: str, *, author: str | None = None
    ) -> PromptNote:
        return self._loop.call(
            self.client.add_prompt_note(workflow, version, reason, author=author)
        )

    def prompt_changelog(self, workflow: str) -> PromptChangelog:
        return self._loop.call(self.client.prompt_changelog(workflow))
