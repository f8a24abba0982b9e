"""Automation-facing HTTP API v1: thin handlers over the domain in ``workflows/``.

Each handler authenticates, validates the body with the schema in ``workflows.bodies.schemas``,
opens one unit of work and maps the result to JSON. Errors are shaped by
``bot.api.errors.error_middleware``.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from bot.api.errors import Handler, json_response
from bot.services import SERVICES
from bot.wakeups.waiters import wait_for_event
from store.repositories import handoffs as handoff_rows
from workflows import credentials, gate
from workflows.alerts.tokens import record_rejected_token
from workflows.bodies.schemas import ActBody, EventBatch, GateBody, HandoffBody, RunFinish, RunStart
from workflows.credentials import Principal
from workflows.delivery import callbacks
from workflows.errors import InvalidInput, NotFound
from workflows.ledger import runs
from workflows.ledger.status import read_backlog, read_pending
from workflows.ledger.story import read_run_story, story_to_json
from workflows.pause.state import pause_state
from workflows.policy import GateQuestion
from workflows.redaction import stored_request_id
from workflows.review import acts, handoffs

BodyT = TypeVar("BodyT", bound=BaseModel)


async def read_body(request: web.Request, schema: type[BodyT]) -> BodyT:
    """Validate the raw body against ``schema`` (pydantic parses the JSON itself)."""
    raw = await request.read()
    return schema.model_validate_json(raw or b"{}")


async def authenticate(request: web.Request, scope: str) -> Principal:
    services = request.app[SERVICES]
    try:
        principal = await credentials.authenticate(
            services.engine,
            authorization=request.headers.get("Authorization"),
            now=services.clock(),
        )
    except credentials.RejectedToken as rejected:  # counted for the misuse alert, then refused
        async with services.sessions() as db, db.begin():
            await record_rejected_token(
                db, credential_id=rejected.credential_id, now=services.clock()
            )
        raise
    if principal.last_used_stale:
        async with services.sessions() as db, db.begin():
            await credentials.record_token_use(db, principal=principal, now=services.clock())
    principal.require(scope)
    services.workflow(principal.workflow)
    return principal


async def create_run(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, RunStart)
    async with services.sessions() as db, db.begin():
        run, created = await runs.start_run(
            db,
            workflow=principal.workflow,
            request=body,
            redactor=services.redactors[principal.workflow],
            now=services.clock(),
        )
    if created:
        services.metrics.runs_started.labels(principal.workflow).inc()
    return json_response(
        {"run_id": run.id, "status": run.status, "created": created}, 201 if created else 200
    )


async def append_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, EventBatch)
    rows = runs.prepare_events(
        body.events,
        workflow=principal.workflow,
        redactor=services.redactors[principal.workflow],
        now=services.clock(),
    )
    result = await runs.append_events(
        services.engine,
        services.readers,
        workflow=principal.workflow,
        run_id=request.match_info["run_id"],
        rows=rows,
    )
    services.metrics.events.labels(principal.workflow).inc(result.accepted)
    if result.errors:
        services.metrics.errors.labels(principal.workflow).inc(result.errors)
    return json_response({"accepted": result.accepted, "duplicates": result.duplicates}, 202)


async def finish_run(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, RunFinish)
    async with services.sessions() as db, db.begin():
        run = await runs.finish_run(
            db,
            workflow=principal.workflow,
            run_id=request.match_info["run_id"],
            request=body,
            redactor=services.redactors[principal.workflow],
            now=services.clock(),
        )
    services.metrics.runs_finished.labels(principal.workflow, run.status).inc()
    return json_response({"run_id": run.id, "status": run.status})


async def get_run(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    async with services.readers() as db:
        story = await read_run_story(
            db, run_id=request.match_info["run_id"], workflow=principal.workflow
        )
    return json_response(story_to_json(story))


def ensure_own_workflow(principal: Principal, name: str) -> str:
    """``name`` if it is the token's own workflow; else ``NotFound``, as another's run is.

    A token belongs to one workflow and acts on that one only, whatever its scopes: an
    ``admin`` token of invoice-extraction must not read, pause or resume ticket-triage.
    Another workflow and a workflow that does not exist answer alike, so a token learns
    nothing about the others.
    """
    if name != principal.workflow:
        raise NotFound(
            f"no workflow '{name}' for this token: a token acts only on its own workflow, "
            f"'{principal.workflow}'",
            details=[{"loc": "workflow", "value": name}],
        )
    return name


async def get_workflow(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    name = ensure_own_workflow(principal, request.match_info["name"])
    workflow = services.workflow(name)
    async with services.readers() as db:
        paused = await pause_state(db, name)
    return json_response(
        {
            "name": name,
            "description": workflow.description,
            "mode": workflow.mode,
            "allowed_actions": workflow.allowed_actions,
            "require_approval": workflow.require_approval,
            "confidence_threshold": workflow.confidence_threshold,
            "stop_topics": workflow.stop_topics,
            "review_timeout_seconds": workflow.review_timeout.total_seconds(),
            "max_attempts": workflow.retries.max_attempts,
            "paused": paused is not None,
            "paused_by": paused.paused_by if paused else None,
            "paused_reason": paused.reason if paused else None,
            # Where reviewers are asked: a client waiting on a handoff says so when it gives up.
            "slack_configured": services.settings.slack_configured,
        }
    )


async def ask_gate(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, GateBody)
    policy = services.workflow(principal.workflow)
    redactor = services.redactors[principal.workflow]
    redacted = redactor.redact(
        {"draft": body.draft, "summary": body.summary, "payload": body.payload}
    ).fields
    run_id = request.match_info["run_id"]
    request_id = body.request_id and stored_request_id(redactor, body.request_id, run_id=run_id)
    answer = await gate.ask_gate(
        services.engine,
        workflow=principal.workflow,
        policy=policy,
        run_id=run_id,
        question=GateQuestion(
            action=body.action,
            draft=body.draft,
            confidence=body.confidence,
            summary=body.summary,
        ),
        redacted=gate.RedactedCase(
            draft=redacted["draft"], summary=redacted["summary"], payload=redacted["payload"]
        ),
        now=services.clock(),
        request_id=request_id,
    )
    services.wake_outbox()
    result: dict[str, Any] = {
        "verdict": answer.verdict,
        "reason": answer.reason,
        "paused": answer.paused,
    }
    if answer.handoff_id is not None:
        result["handoff_id"] = answer.handoff_id
    return json_response(result)


async def open_handoff(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "handoffs:write")
    body = await read_body(request, HandoffBody)
    policy = services.workflow(principal.workflow)
    redactor = services.redactors[principal.workflow]
    fields = redactor.redact(body.model_dump(exclude={"request_id"})).fields
    run_id = request.match_info["run_id"]
    if body.request_id is not None:
        fields["request_id"] = stored_request_id(redactor, body.request_id, run_id=run_id)
    async with services.sessions() as db, db.begin():
        handoff = await handoffs.request_handoff(
            db,
            workflow=principal.workflow,
            policy=policy,
            run_id=run_id,
            request=handoffs.HandoffRequest(**fields),
            now=services.clock(),
        )
    services.wake_outbox()
    return json_response({"handoff_id": handoff.id, "status": handoff.status}, 201)


MAX_WAIT_SECONDS = 60.0


async def get_handoff(request: web.Request) -> web.Response:
    """The decision on a handoff; with ``?wait=N`` it waits up to N seconds for one."""
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    handoff_id = request.match_info["handoff_id"]
    wait = _wait_seconds(request.query.get("wait"))
    deadline = time.monotonic() + wait
    while True:
        # Watch before reading: a decision committed during the read still wakes this poll.
        with services.signals.watching(handoff_id) as woken:
            async with services.readers() as db:
                handoff = await handoffs.get_handoff_of(
                    db, handoff_id=handoff_id, workflow=principal.workflow
                )
                body = callbacks.delivery_json(
                    handoff, await handoff_rows.get_decision(db, handoff_id)
                )
            if (
                handoff.status == "pending"
                and handoff.expires_at
                and handoff.expires_at <= services.clock()
            ):
                async with services.sessions() as db, db.begin():
                    await handoffs.expire_overdue(db, config=services.config, now=services.clock())
                services.wake_outbox()
                continue
            remaining = deadline - time.monotonic()
            if body["status"] not in ("pending", "held") or remaining <= 0:
                return json_response(body)
            # The re-read is the safety net for a wake-up lost between processes.
            with services.metrics.long_polls_waiting.track_inprogress():
                await wait_for_event(woken, min(remaining, services.settings.reread_seconds))


async def act_on_handoff(request: web.Request) -> web.Response:
    """The automation acts on an approval, naming its digest: once (``workflows.review.acts``)."""
    services = request.app[SERVICES]
    principal = await authenticate(request, "handoffs:write")
    body = await read_body(request, ActBody)
    handoff_id = request.match_info["handoff_id"]
    try:
        async with services.sessions() as db, db.begin():
            decision = await acts.act_on_approval(
                db,
                handoff_id=handoff_id,
                workflow=principal.workflow,
                digest=body.approval_digest,
                actor=f"api:{principal.credential_id}",
                now=services.clock(),
            )
    except acts.ActRefused as refused:
        async with services.sessions() as db, db.begin():
            await acts.record_refused_act(
                db, refusal=refused.refusal, digest=body.approval_digest, now=services.clock()
            )
        raise refused.refusal.error from None
    return json_response(
        {
            "handoff_id": handoff_id,
            "run_id": decision.run_id,
            "approval_digest": decision.approval_digest,
            "acted_at": decision.acted_at.isoformat() if decision.acted_at else None,
        }
    )


def _wait_seconds(raw: str | None) -> float:
    if raw is None:
        return 0.0
    try:
        wait = float(raw)
    except ValueError:
        raise InvalidInput(
            f"wait must be a number of seconds, not {raw!r}", details=[{"loc": "query.wait"}]
        ) from None
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise InvalidInput(
            f"wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds",
            details=[{"loc": "query.wait"}],
        )
    return wait


async def healthz(request: web.Request) -> web.Response:
    return json_response({"ok": True})


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    workflows = list(services.config.workflows)
    async with services.readers() as db:
        pending = await read_pending(db, workflows)
        backlog = await read_backlog(db)
    services.metrics.observe_waiting(
        workflows=workflows, pending=pending, backlog=backlog, now=services.clock()
    )
    return web.Response(
        body=services.metrics.render(),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


@web.middleware
async def timing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record request latency by route template, so run IDs do not explode the labels."""
    started = time.perf_counter()
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[SERVICES].metrics.request_seconds.labels(
        request.method, route, str(response.status)
    ).observe(time.perf_counter() - started)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/runs", create_run)
    app.router.add_post("/api/v1/runs/{run_id}/events", append_events)
    app.router.add_post("/api/v1/runs/{run_id}/finish", finish_run)
    app.router.add_get("/api/v1/runs/{run_id}", get_run)
    app.router.add_post("/api/v1/runs/{run_id}/gate", ask_gate)
    app.router.add_post("/api/v1/runs/{run_id}/handoffs", open_handoff)
    app.router.add_get("/api/v1/handoffs/{handoff_id}", get_handoff)
    app.router.add_post("/api/v1/handoffs/{handoff_id}/act", act_on_handoff)
    app.router.add_get("/api/v1/workflows/{name}", get_workflow)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
