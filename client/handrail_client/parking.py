"""Parking a job that cannot finish, and picking it up again once a person says so.

``park`` keeps the job with where it stopped (``last_step``) and what it had (``input_ref``,
``extracted``, the full ``error``). A person resumes it from Slack; ``claim_resumed`` then
hands each resumed job to exactly one caller, which continues the same run after
``last_step`` instead of starting over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handrail_client.client import HandrailClient


@dataclass(frozen=True, slots=True)
class ParkedJob:
    """A parked job with everything needed to continue it."""

    parked_id: str
    run_id: str
    status: str
    last_step: str
    input_ref: str | None
    extracted: Any
    error: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ParkedJob:
        return cls(
            parked_id=body["parked_id"],
            run_id=body["run_id"],
            status=body["status"],
            last_step=body["last_step"],
            input_ref=body.get("input_ref"),
            extracted=body.get("extracted"),
            error=body.get("error"),
        )


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    """What the client needs of a workflow's brief: its retry cap and its switch."""

    name: str
    max_attempts: int
    paused: bool
    paused_by: str | None
    paused_reason: str | None


async def park(
    client: HandrailClient,
    run_id: str,
    *,
    last_step: str,
    input_ref: str | None = None,
    extracted: Any = None,
    error: str | None = None,
) -> ParkedJob:
    """Park the run's job; a retried request returns the same job (same ``request_id``)."""
    body = {
        "request_id": uuid.uuid4().hex,
        "last_step": last_step,
        "input_ref": input_ref,
        "extracted": extracted,
        "error": error,
    }
    url = client.transport.url("api", "v1", "runs", run_id, "park")
    answer = await client.transport.request(
        "POST", url, {key: value for key, value in body.items() if value is not None}
    )
    return ParkedJob.from_json(answer)


async def claim_resumed(client: HandrailClient, *, limit: int = 1) -> list[ParkedJob]:
    """Take up to ``limit`` jobs a person marked to resume; each is handed out once."""
    url = client.transport.url("api", "v1", "parked", "claim")
    answer = await client.transport.request("POST", url, {"limit": limit})
    return [ParkedJob.from_json(job) for job in answer["jobs"]]


async def get_parked(client: HandrailClient, parked_id: str) -> ParkedJob:
    url = client.transport.url("api", "v1", "parked", parked_id)
    return ParkedJob.from_json(await client.transport.request("GET", url))


async def get_workflow(client: HandrailClient, name: str) -> WorkflowInfo:
    """The workflow's retry cap and pause state (``GET /api/v1/workflows/{name}``)."""
    answer = await client.transport.request(
        "GET", client.transport.url("api", "v1", "workflows", name)
    )
    return WorkflowInfo(
        name=answer["name"],
        max_attempts=int(answer["max_attempts"]),
        paused=bool(answer["paused"]),
        paused_by=answer.get("paused_by"),
        paused_reason=answer.get("paused_reason"),
    )
