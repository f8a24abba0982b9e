"""``HandrailClient``: the async client automations use to talk to Handrail's API v1.

Request bodies are plain JSON built here; the server checks every value and answers a
wrong one with :class:`InvalidRequest` naming the field, so the client carries no copy of
the server's schemas.
Every call that writes is made safe to resend: run IDs and event IDs are chosen by the
client before the first attempt, and finishing twice with the same status is a no-op.

New endpoints (gate, handoffs, long-polled decisions, park) slot in as methods built the
same way: a schema for the body, ``self.transport.url(...)`` for the path and
``self.transport.request(...)`` for a retried call (with ``attempt_timeout=`` for a long poll).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ulid import ULID

from handrail_client import parking as parking_calls
from handrail_client import prompt_notes as prompt_note_calls
from handrail_client import review as review_calls
from handrail_client.config import resolve_connection
from handrail_client.errors import HandrailUnavailable, InvalidRequest
from handrail_client.parking import ParkedJob, WorkflowInfo
from handrail_client.payloads import (
    BATCH_ENVELOPE,
    EncodedEvent,
    Event,
    batch_body,
    batch_length,
    encode_event,
    fit_document,
    json_safe,
)
from handrail_client.prompt_notes import PromptChangelog, PromptNote
from handrail_client.review import ActRecord, Decision, GateResult
from handrail_client.runs import FinishStatus, Run
from handrail_client.steps import Timer, clip, new_event_id
from handrail_client.transport import Sleep, Transport, Wait

#: The server takes at most this many events in one request (``EventBatch``).
MAX_BATCH = 1000
#: The server's default ``HANDRAIL_MAX_BODY_BYTES``.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: The smallest body cap the client can work with (a step's fixed fields must fit).
MIN_MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class StartedRun:
    run_id: str
    status: str
    created: bool


@dataclass(frozen=True, slots=True)
class FinishedRun:
    run_id: str
    status: str


@dataclass(frozen=True, slots=True)
class LoggedEvents:
    accepted: int
    duplicates: int


def new_run_id() -> str:
    """A client-chosen, time-sortable run ID, so a retried start rejoins the same run."""
    return f"run-{ULID()}"


class HandrailClient:
    """Async client on one httpx connection pool; use ``async with`` or call ``close()``.

    ``base_url`` and ``token`` default to the ``HANDRAIL_URL`` and ``HANDRAIL_TOKEN``
    environment variables; with neither given nor set, :class:`MissingConfiguration`.

    ``timeout`` bounds each attempt, ``max_attempts`` and ``deadline`` (seconds, all
    attempts and waits together) bound each call. ``wait`` is the backoff strategy (a
    tenacity wait; tests pass ``tenacity.wait_none()``), ``sleep`` how waiting is done and
    ``timer`` the monotonic clock that times steps. ``max_body_bytes`` is the server's
    ``HANDRAIL_MAX_BODY_BYTES``: requests are kept a tenth under it.
    """

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
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}, not {batch_size}")
        if max_body_bytes < MIN_MAX_BODY_BYTES:
            raise ValueError(
                f"max_body_bytes must be at least {MIN_MAX_BODY_BYTES}, not {max_body_bytes}"
            )
        base_url, token = resolve_connection(base_url, token)
        self.transport = Transport(
            base_url,
            token,
            timeout=timeout,
            max_attempts=max_attempts,
            deadline=deadline,
            wait=wait,
            sleep=sleep,
        )
        self.batch_size = batch_size
        self.timer = timer
        self.drafts = review_calls.SentDrafts()
        # A margin under the server's cap, for proxies that count differently.
        self.request_bytes = max_body_bytes - max_body_bytes // 10

    async def __aenter__(self) -> HandrailClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    def run(
        self,
        run_id: str | None = None,
        *,
        input_source: str | None = None,
        prompt_version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Run:
        """A run to use as ``async with client.run(...) as run``; started on entry."""
        return Run(
            self,
            run_id=run_id or new_run_id(),
            input_source=input_source,
            prompt_version=prompt_version,
            model=model,
            metadata=metadata,
        )

    async def start_run(
        self,
        *,
        run_id: str | None = None,
        input_source: str | None = None,
        prompt_version: str | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StartedRun:
        """Start a run; the same ``run_id`` again returns the run already started."""
        body = {
            "run_id": run_id or new_run_id(),
            "input_source": input_source,
            "prompt_version": prompt_version,
            "model": model,
            "metadata": metadata,
        }
        answer = await self.transport.request(
            "POST", self.transport.url("api", "v1", "runs"), _without_none(body)
        )
        return StartedRun(answer["run_id"], answer["status"], bool(answer.get("created")))

    def encode_event(self, event: Mapping[str, Any]) -> EncodedEvent:
        """The step made JSON-safe, given an ID, and clipped to fit a request on its own."""
        return encode_event(_with_id(event), max_bytes=self.request_bytes - BATCH_ENVELOPE)

    async def log_events(self, run_id: str, events: Iterable[Mapping[str, Any]]) -> LoggedEvents:
        """Append steps in order, in requests of at most ``batch_size`` events that fit
        the body cap; events without an ID get one (see ``handrail_client.payloads``)."""
        return await self.deliver(run_id, [self.encode_event(event) for event in events])

    async def deliver(
        self,
        run_id: str,
        pending: list[EncodedEvent],
        *,
        refused: Callable[[int], None] | None = None,
    ) -> LoggedEvents:
        """Send ``pending`` in order, removing each batch from it once the server has it.

        A batch the server refuses as too large (413) is sent again in halves. A batch it
        refuses otherwise is removed too (resending cannot help), ``refused`` is told how
        many steps that lost, and the refusal is raised. When the server cannot be reached,
        ``HandrailUnavailable`` is raised and the batch stays in ``pending``.
        """
        accepted = duplicates = 0
        limit = self.batch_size
        while pending:
            size = batch_length(pending, max_count=limit, max_bytes=self.request_bytes)
            try:
                result = await self.send_events(run_id, pending[:size])
            except HandrailUnavailable:
                raise
            except Exception as exc:
                if isinstance(exc, InvalidRequest) and exc.status == 413 and size > 1:
                    limit = size // 2  # the server's cap is lower than we were told
                    continue
                del pending[:size]
                if refused is not None:
                    refused(size)
                raise
            del pending[:size]
            accepted += result.accepted
            duplicates += result.duplicates
        return LoggedEvents(accepted, duplicates)

    async def send_events(self, run_id: str, batch: list[EncodedEvent]) -> LoggedEvents:
        """Send encoded events in one request, as they are."""
        url = self.transport.url("api", "v1", "runs", run_id, "events")
        answer = await self.transport.request("POST", url, batch_body(batch))
        return LoggedEvents(int(answer["accepted"]), int(answer["duplicates"]))

    async def finish_run(
        self,
        run_id: str,
        status: FinishStatus,
        *,
        result: Any = None,
        error: str | None = None,
    ) -> FinishedRun:
        """Close a run as succeeded, failed or cancelled, with its result or full error.

        The result is made JSON-safe and, like the error, clipped if the body would not fit.
        """
        body = {
            "status": status,
            "result": json_safe(result),
            "error": clip(error) if error is not None else None,
        }
        raw, _ = fit_document(_without_none(body), max_bytes=self.request_bytes)
        url = self.transport.url("api", "v1", "runs", run_id, "finish")
        answer = await self.transport.request("POST", url, raw)
        return FinishedRun(answer["run_id"], answer["status"])

    async def gate(self, run_id: str, *, action: str, **question: Any) -> GateResult:
        """Ask the gate before acting (see ``handrail_client.review.gate``)."""
        return await review_calls.gate(self, run_id, action=action, **question)

    async def review(self, run_id: str, *, action: str, **question: Any) -> Decision:
        """Ask the gate and wait for a person if needed (``handrail_client.review.review``)."""
        return await review_calls.review(self, run_id, action=action, **question)

    async def act(self, handoff_id: str, approval_digest: str) -> ActRecord:
        """State once that the approval is acted on (``handrail_client.review.act``)."""
        return await review_calls.act(self, handoff_id, approval_digest)

    async def open_handoff(self, run_id: str, *, kind: str, summary: str, **fields: Any) -> str:
        """Hand a case to a person; returns the handoff ID."""
        return await review_calls.open_handoff(self, run_id, kind=kind, summary=summary, **fields)

    async def wait_for_decision(
        self, handoff_id: str, *, max_wait: float, draft: str | None = None
    ) -> Decision:
        """Wait for a person's decision on ``handoff_id`` (``draft``: the one sent, if this
        client did not open the handoff itself)."""
        return await review_calls.wait_for_decision(
            self, handoff_id, max_wait=max_wait, draft=draft
        )

    async def park(self, run_id: str, *, last_step: str, **context: Any) -> ParkedJob:
        """Park the run's job with its context (see ``handrail_client.parking.park``)."""
        return await parking_calls.park(self, run_id, last_step=last_step, **context)

    async def claim_resumed(self, *, limit: int = 1) -> list[ParkedJob]:
        """Jobs a person marked to resume, each handed to one caller only."""
        return await parking_calls.claim_resumed(self, limit=limit)

    async def get_parked(self, parked_id: str) -> ParkedJob:
        return await parking_calls.get_parked(self, parked_id)

    async def get_workflow(self, name: str) -> WorkflowInfo:
        """The workflow's ``max_attempts`` and whether it is paused."""
        return await parking_calls.get_workflow(self, name)

    async def add_prompt_note(
        self, workflow: str, version: str, reason: str, *, author: str | None = None
    ) -> PromptNote:
        """Say why prompt ``version`` was made; sending the same note again is harmless."""
        return await prompt_note_calls.add_prompt_note(
            self, workflow, version, reason, author=author
        )

    async def prompt_changelog(self, workflow: str) -> PromptChangelog:
        """The notes, and the versions first seen without one."""
        return await prompt_note_calls.prompt_changelog(self, workflow)

    async def get_run(self, run_id: str) -> dict[str, Any]:
        """The run as the server keeps it (redacted), with its steps in order."""
        url = self.transport.url("api", "v1", "runs", run_id)
        answer: dict[str, Any] = await self.transport.request("GET", url)
        return answer


def _with_id(event: Mapping[str, Any]) -> Event:
    with_id = dict(event)
    if with_id.get("id") is None:
        with_id["id"] = new_event_id()
    return with_id


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}
