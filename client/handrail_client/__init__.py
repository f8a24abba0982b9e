"""The Python client automations use to report runs to Handrail (API v1).

Every step of a run is recorded as it happens, buffered and sent in batches; each step
carries an ID chosen here, so a batch resent after a lost answer is stored once. Transient
failures are retried with backoff under a hard cap; when the cap is hit the call raises
:class:`HandrailUnavailable` rather than dropping anything. Refusals raise typed errors
(:class:`Unauthorized`, :class:`InvalidRequest`, :class:`WorkflowPaused`, ...).

Usage::

    from handrail_client import HandrailClient

    async with HandrailClient("https://handrail.internal", token) as handrail:
        async with handrail.run(input_source="ticket 4812", prompt_version="triage-v3") as run:
            await run.prompt("triage", prompt_text, version="triage-v3")
            async with run.model("classify", model="gpt-4o", settings={"temperature": 0}) as m:
                reply = await llm(prompt_text)
                m.output = reply.text
                m.tokens_in, m.tokens_out = reply.usage.input, reply.usage.output
            async with run.tool("order_lookup", input={"order": "A-1"}) as t:
                t.output = await orders.lookup("A-1")   # if this raises, the step is an error
            await run.action("tag", input={"tags": ["billing"]})
            run.result = {"tags": ["billing"]}
        # finished as succeeded; had the body raised, as failed with the full traceback

Code that is not async uses :class:`HandrailSyncClient` the same way, with ``with``.

A call that may fail for a while is wrapped in :func:`call_with_retries`, capped by the
workflow's ``max_attempts``; a job that still cannot finish is parked with its context, and
picked up again once a person resumes it::

    cap = (await handrail.get_workflow("invoice-extraction")).max_attempts
    try:
        text = await call_with_retries(lambda: ocr(pdf), max_attempts=cap, name="ocr", run=run)
    except StepFailed as failure:
        await run.park(last_step="fetch", input_ref=pdf.name, error=str(failure))
    ...
    for job in await handrail.claim_resumed():
        async with handrail.run(job.run_id) as run:   # continue after job.last_step
            ...

``HandrailSyncClient`` has ``park``, ``claim_resumed`` and ``get_workflow`` too; the retry
helper is async only.
"""

from __future__ import annotations

from handrail_client.client import (
    FinishedRun,
    HandrailClient,
    LoggedEvents,
    StartedRun,
    new_run_id,
)
from handrail_client.context import current_run
from handrail_client.decorators import requires_approval, step
from handrail_client.errors import (
    ActRefused,
    ApprovalExpired,
    ApprovalRejected,
    ConflictError,
    HandrailAPIError,
    HandrailClientError,
    HandrailUnavailable,
    InvalidRequest,
    MissingConfiguration,
    NoCurrentRun,
    NotApproved,
    PermissionDenied,
    RateLimited,
    RunNotFound,
    ServerError,
    ShadowOnly,
    Unauthorized,
    UnresolvedRedactions,
    WebhookVerificationFailed,
    WorkflowPaused,
)
from handrail_client.parking import ParkedJob, WorkflowInfo
from handrail_client.prompt_notes import PromptChangelog, PromptNote
from handrail_client.retrying import (
    HardFailure,
    InvalidModelOutput,
    StepFailed,
    TemporaryFailure,
    call_with_retries,
)
from handrail_client.review import ActRecord, Decision, GateResult, ReviewTimeout
from handrail_client.runs import Run, StepBlock
from handrail_client.steps import Step
from handrail_client.sync import HandrailSyncClient, SyncRun, SyncStepBlock
from handrail_client.webhooks import verify_webhook

__all__ = [
    "ActRecord",
    "ActRefused",
    "ApprovalExpired",
    "ApprovalRejected",
    "ConflictError",
    "Decision",
    "FinishedRun",
    "GateResult",
    "HandrailAPIError",
    "HandrailClient",
    "HandrailClientError",
    "HandrailSyncClient",
    "HandrailUnavailable",
    "HardFailure",
    "InvalidModelOutput",
    "InvalidRequest",
    "LoggedEvents",
    "MissingConfiguration",
    "NoCurrentRun",
    "NotApproved",
    "ParkedJob",
    "PermissionDenied",
    "PromptChangelog",
    "PromptNote",
    "RateLimited",
    "ReviewTimeout",
    "Run",
    "RunNotFound",
    "ServerError",
    "ShadowOnly",
    "StartedRun",
    "Step",
    "StepBlock",
    "StepFailed",
    "SyncRun",
    "SyncStepBlock",
    "TemporaryFailure",
    "Unauthorized",
    "UnresolvedRedactions",
    "WebhookVerificationFailed",
    "WorkflowInfo",
    "WorkflowPaused",
    "call_with_retries",
    "current_run",
    "new_run_id",
    "requires_approval",
    "step",
    "verify_webhook",
]
