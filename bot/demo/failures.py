"""The cases that go wrong: a model that keeps timing out, and one error over and over.

The timeout is simulated end to end as an automation meets it: each attempt is a model
step that fails with the full error, the client's retry helper retries it up to the
workflow's ``max_attempts`` (a ``retry`` step each time), and then the automation hands the
ticket to a person with everything it knows and parks the job instead of dropping it.
The repeated error is a run of invoices failing the same way, enough of them to trip the
workflow's ``repeated_error`` alert rule at Handrail's next check.
"""

from __future__ import annotations

import asyncio
import contextlib

from handrail_client import Decision, ParkedJob, Run, StepFailed, call_with_retries
from pydantic import JsonValue
from tenacity import wait_fixed

from bot.demo.acting import ask_gate, quote, reply_sender, wait_for
from bot.demo.context import Demo, FollowUp
from bot.demo.reviews import MODEL, TRIAGE, start
from bot.scheduler import ALERT_INTERVAL

INVOICES = "invoice-extraction"
TIMEOUT = "read timeout: gpt-4o gave no answer within 30 s (request cancelled by the client)"
OCR_ERROR = "ocr: upstream timeout after 20 s (HTTP 504 from ocr.internal) reading the PDF"


class SimulatedModel:
    """A model endpoint that times out until a person asks for a retry."""

    def __init__(self) -> None:
        self.down = True

    async def draft(self, run: Run) -> str:
        async with run.model("draft_reply", model=MODEL, settings={"timeout_s": 30}) as step:
            if self.down:
                raise TimeoutError(TIMEOUT)
            step.output = "Hi Jo,\nsorry for the wait: your replacement ships today.\nBest, Support"
            step.tokens_in, step.tokens_out = 390, 14
        return str(step.output)


async def model_timeout(demo: Demo) -> FollowUp | None:
    """Timeouts, retries, then a handoff with the full context and a parked job."""
    scenario, ticket = "model-timeout", "ticket-4815"
    client = demo.client(TRIAGE)
    run = await start(demo, TRIAGE, ticket, "From Jo: the replacement for order A-2210 never came.")
    order: dict[str, JsonValue] = {
        "order": "A-2210",
        "status": "replacement requested",
        "since": "12 days",
    }
    async with run.tool("order_lookup", input={"order": "A-2210"}) as lookup:
        lookup.output = order
    model = SimulatedModel()
    failure = await _until_given_up(demo, run, model)
    error, attempts = str(failure), failure.attempts
    demo.tell(scenario, f"{ticket}: the model timed out {attempts} times in a row: {TIMEOUT}")
    await run.flush()  # the attempts come before the handoff in the trace
    handoff_id = await client.open_handoff(
        run.run_id,
        kind="tool_failure",
        summary=f"Could not draft a reply for {ticket}: the model timed out {attempts} times.",
        tool=f"{MODEL} (draft_reply)",
        error=error,
        last_step="order_lookup",
        context={"ticket": ticket, "order": order, "attempts": attempts},
    )
    job = await run.park(
        last_step="order_lookup", input_ref=ticket, extracted={"order": order}, error=error
    )
    demo.tell(
        scenario,
        f"{ticket}: handed to a person (handoff {handoff_id}: I'll handle it / Retry) and "
        f"parked the job as {job.parked_id} (Resume it from /handrail parked)",
    )

    async def follow_up() -> None:
        decision, resumed = await _first_answer(demo, run, handoff_id=handoff_id, job=job)
        if resumed is not None:
            demo.tell(
                scenario,
                f"{ticket}: parked job {resumed.parked_id} was resumed; "
                f"continuing after {resumed.last_step}",
            )
        elif decision is not None and decision.outcome == "retry_requested":
            demo.tell(scenario, f"retry requested by {decision.reviewer}: asking the model again")
        else:
            if decision is not None:
                who = decision.reviewer or "a person"
                demo.tell(scenario, f"{decision.status}: {who} handles {ticket}; keeping out")
            return
        model.down = False
        draft = await model.draft(run)
        demo.tell(scenario, f"{ticket}: the model answered this time: {quote(draft)}")
        again = await ask_gate(
            demo,
            run,
            scenario=scenario,
            workflow=TRIAGE,
            ticket=ticket,
            action="send_reply",
            draft=draft,
            confidence=0.9,
            summary="Replacement never arrived; it ships today.",
            act=reply_sender(demo, run, scenario=scenario, ticket=ticket),
        )
        if again is not None:
            await again()

    return follow_up


async def _until_given_up(demo: Demo, run: Run, model: SimulatedModel) -> StepFailed:
    """Call the model with the client's retry helper, up to the workflow's cap."""
    cap = (await run.client.get_workflow(TRIAGE)).max_attempts
    try:
        await call_with_retries(
            lambda: model.draft(run),
            max_attempts=cap,
            name="draft_reply",
            run=run,
            wait=wait_fixed(demo.timing.retry_pause),
        )
    except StepFailed as failure:
        return failure
    raise AssertionError("the simulated model stays down until a person asks for a retry")


async def _first_answer(
    demo: Demo, run: Run, *, handoff_id: str, job: ParkedJob
) -> tuple[Decision | None, ParkedJob | None]:
    """Whichever comes first: a decision on the handoff, or the parked job resumed."""
    deciding = asyncio.create_task(
        wait_for(demo, run, scenario="model-timeout", handoff_id=handoff_id, draft=None)
    )
    resuming = asyncio.create_task(_resumed(demo, run, job))
    done, pending = await asyncio.wait({deciding, resuming}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if resuming in done:
        return None, resuming.result()
    return deciding.result(), None


async def _resumed(demo: Demo, run: Run, job: ParkedJob) -> ParkedJob:
    """The job, once a person resumed it and this automation claimed it."""
    while True:
        for claimed in await run.client.claim_resumed(limit=10):
            if claimed.parked_id == job.parked_id:
                return claimed
        await asyncio.sleep(demo.timing.poll)


async def repeated_errors(demo: Demo) -> FollowUp | None:
    """The same OCR error on one invoice after another, enough to raise an alert."""
    scenario = "repeated-errors"
    policy = demo.config.workflows[INVOICES]
    rule = policy.alerts.repeated_error
    client = demo.client(INVOICES)
    for number in range(rule.count):
        invoice = f"INV-{204117 + number}"
        async with client.run(
            demo.run_id(invoice.lower()), input_source=f"{invoice}.pdf", metadata={"demo": True}
        ) as run:
            async with run.tool("ocr", input={"file": f"{invoice}.pdf"}) as step:
                step.status = "error"
                step.error = OCR_ERROR
            await run.finish("failed", error=OCR_ERROR)
    channel = policy.alert_channel or "the outbox (no alert channel set)"
    demo.tell(
        scenario,
        f"{rule.count} invoices failed with the same error ({OCR_ERROR}); Handrail raises a "
        f"repeated-error alert in {channel} at its next check (every "
        f"{ALERT_INTERVAL.total_seconds():g} s)",
    )
    return None
