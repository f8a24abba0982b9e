"""``Run``: one execution of a workflow, recorded step by step as it happens.

Steps are buffered and sent in batches (when the buffer is full, and always before the run
finishes), each with an ID chosen here, so a batch resent after a lost answer is stored
once. Each step is made JSON-safe and sized as it is recorded (``handrail_client.payloads``),
so one odd value cannot spoil a batch. A step that fails only joins the buffer: the
exception the user's code raised is never replaced by a network error at that point. Events
the server could not be reached for stay in ``pending`` for the next flush; events it
refused (409, 422) are dropped from it as the refusal is raised. Nothing is dropped without
an exception saying so.
"""

from __future__ import annotations

import asyncio
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from handrail_client.context import AnyRun, enter_run, leave_run
from handrail_client.errors import HandrailUnavailable
from handrail_client.parking import ParkedJob
from handrail_client.payloads import EncodedEvent, Event
from handrail_client.review import ActRecord, Decision
from handrail_client.steps import Step, Timer, clip, describe_error, format_error

if TYPE_CHECKING:
    from handrail_client.client import HandrailClient

FinishStatus = Literal["succeeded", "failed", "cancelled"]


class StepBlock:
    """``async with run.tool(...) as step``: times the block and records it when it ends."""

    def __init__(self, run: Run, step: Step) -> None:
        self._run = run
        self.step = step

    async def __aenter__(self) -> Step:
        self.step.begin(self._run.timer)
        return self.step

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.step.end(self._run.timer, exc)
        if exc is None:
            await self._run.record(self.step.to_event())
        else:
            self._run.buffer(self.step.to_event())


class Run:
    """A run of one workflow; use ``async with client.run(...) as run``.

    On a normal exit the run is finished as succeeded (with ``run.result``) unless the body
    finished it itself; a step that cannot be sent then raises, as anywhere else.

    If the body raises, the run is finished as failed (cancelled, for a cancelled task) with
    the full traceback, and the body's exception propagates. Steps that cannot be sent do
    not stop that: the run is still finished, its error text ends with a note saying how
    many steps are missing and why, and the same note is added to the body's exception
    (``add_note``). Only if Handrail cannot be reached to finish the run is
    ``HandrailUnavailable`` raised instead, with the body's exception as its
    ``__context__``: losing the record is never silent.
    """

    def __init__(
        self,
        client: HandrailClient,
        *,
        run_id: str,
        input_source: str | None = None,
        prompt_version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.timer: Timer = client.timer
        self.result: Any = None  # made JSON-safe when sent (``payloads.json_safe``)
        self.status: str | None = None
        self._input_source = input_source
        self._prompt_version = prompt_version
        self._model = model
        self._metadata = metadata
        self._pending: list[EncodedEvent] = []
        self._send_lock = asyncio.Lock()
        self._refused = 0  # steps the server refused, for the note on a failed run
        self._finished = False
        self._parked = False
        self._context: Token[AnyRun | None] | None = None

    @property
    def pending(self) -> tuple[Event, ...]:
        """Steps recorded but not yet accepted by the server."""
        return tuple(encoded.event for encoded in self._pending)

    @property
    def finished(self) -> bool:
        return self._finished

    async def start(self) -> Run:
        """Start (or, with the same run ID, rejoin) the run on the server."""
        started = await self.client.start_run(
            run_id=self.run_id,
            input_source=self._input_source,
            prompt_version=self._prompt_version,
            model=self._model,
            metadata=self._metadata,
        )
        self.status = started.status
        return self

    async def __aenter__(self) -> Run:
        await self.start()
        self._context = enter_run(self)  # ``handrail_client.current_run()`` in the block
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._context is not None:
            leave_run(self._context)
            self._context = None
        if exc is None:
            if self._finished or self._parked:
                await self.flush()
            else:
                await self.finish("succeeded", result=self.result)
            return
        unsent = await self._flush_what_can_be_sent()
        if unsent:
            exc.add_note(f"handrail: {unsent}")
        if self._finished or self._parked:
            return
        status: FinishStatus = "cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"
        # Formatted after add_note, so the run's error text carries the note as well.
        await self._close(status, result=None, error=format_error(exc))

    def buffer(self, event: Event) -> None:
        """Queue a step without sending; it goes out with the next batch or at finish.

        The step is made JSON-safe and sized now, so later changes to its values do not
        reach the trace and one odd value cannot spoil the batch it travels in.
        """
        self._pending.append(self.client.encode_event(event))

    async def record(self, event: Event) -> None:
        """Queue a step and send the buffer once it holds a full batch."""
        self.buffer(event)
        if self._finished or len(self._pending) >= self.client.batch_size:
            # After finish, send at once so the server's 409 surfaces here, not later.
            await self.flush()

    async def flush(self) -> None:
        """Send every pending step, a batch at a time, in the order they were recorded."""
        async with self._send_lock:
            await self.client.deliver(self.run_id, self._pending, refused=self._count_refused)

    def _count_refused(self, steps: int) -> None:
        self._refused += steps

    async def _flush_what_can_be_sent(self) -> str | None:
        """Send what the server takes, past refused batches; say what could not be sent.

        For the exit of a body that raised: the run must still be finished, so a send
        failure becomes a sentence for the run's error and the body's exception.
        """
        failures: list[Exception] = []
        refused_before = self._refused
        unreachable = 0
        while self._pending:
            try:
                await self.flush()
            except HandrailUnavailable as unavailable:
                failures.append(unavailable)
                unreachable = len(self._pending)
                break
            except Exception as refused:
                failures.append(refused)
        if not failures:
            return None
        lost = self._refused - refused_before + unreachable
        reasons = "; ".join(dict.fromkeys(describe_error(failure) for failure in failures))
        return f"{lost} step(s) of this run could not be sent to Handrail: {reasons}"

    async def finish(
        self,
        status: FinishStatus = "succeeded",
        *,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        """Send pending steps, then close the run; the context manager then leaves it be."""
        await self.flush()
        await self._close(status, result=result, error=error)

    async def _close(self, status: FinishStatus, *, result: Any, error: str | None) -> None:
        finished = await self.client.finish_run(self.run_id, status, result=result, error=error)
        self.status = finished.status
        self._finished = True

    async def review(self, *, action: str, **question: Any) -> Decision:
        """Flush what is buffered, then ask the gate and wait for a person if needed."""
        await self.flush()
        return await self.client.review(self.run_id, action=action, **question)

    async def act(self, decision: Decision) -> ActRecord | None:
        """State that ``decision``'s approval is acted on, once; None when it has no digest
        (a policy allow, or an older server), since there is nothing to bind the act to."""
        if not decision.handoff_id or decision.approval_digest is None:
            return None
        return await self.client.act(decision.handoff_id, decision.approval_digest)

    async def park(
        self,
        *,
        last_step: str,
        input_ref: str | None = None,
        extracted: Any = None,
        error: str | None = None,
    ) -> ParkedJob:
        """Keep this unfinished job with its context instead of dropping it.

        Steps buffered so far are sent first, so the trace shows how it got here. The run
        stays open (``parked``); leave the ``async with`` block by returning, and a person
        decides in Slack whether it resumes or is taken over.
        """
        await self.flush()
        job = await self.client.park(
            self.run_id, last_step=last_step, input_ref=input_ref, extracted=extracted, error=error
        )
        self._parked = True  # not finished: the context manager leaves the run open
        return job

    async def prompt(self, name: str, text: str, *, version: str | None = None) -> None:
        """The prompt as sent to the model, with its version so a change can be traced."""
        await self.record(dict(type="prompt", name=name, input=text, prompt_version=version))

    async def note(self, name: str, text: str) -> None:
        """A free-form remark for whoever reads the trace later."""
        await self.record(dict(type="note", name=name, output=text))

    async def action(self, name: str, *, input: Any = None, output: Any = None) -> None:
        """Something the automation did in the world (tagged, routed, sent)."""
        await self.record(dict(type="action", name=name, input=input, output=output))

    async def error(self, name: str, text: str) -> None:
        """An error the automation handled itself; keep the full text, not a summary."""
        await self.record(dict(type="error", name=name, status="error", error=clip(text)))

    def model(
        self,
        name: str,
        *,
        model: str,
        settings: dict[str, Any] | None = None,
        prompt_version: str | None = None,
    ) -> StepBlock:
        """Time a model call; set ``step.output``, ``step.tokens_in`` and ``step.tokens_out``."""
        step = Step("model", name, model=model, settings=settings, prompt_version=prompt_version)
        return StepBlock(self, step)

    def tool(self, name: str, *, input: Any = None) -> StepBlock:
        """Time a tool call; set ``step.output``. If the block raises, the step is an error."""
        return StepBlock(self, Step("tool", name, input=input))
