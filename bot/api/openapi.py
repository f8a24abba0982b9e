"""The published OpenAPI document of API v1, generated from the models the server validates with.

Request bodies are the pydantic models in ``workflows.bodies`` that ``bot.api.routes.read_body``
validates against, so the document cannot drift from what the server accepts. ``OPERATIONS``
lists every API v1 route once; a test checks it against the application's router and the
checked-in ``docs/openapi.json`` against a fresh generation.

Regenerate with ``python -m bot.api.openapi docs/openapi.json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from workflows.bodies.pause_parking import ClaimBody, ParkBody, PauseBody, ResumeBody
from workflows.bodies.schemas import ActBody, EventBatch, GateBody, HandoffBody, RunFinish, RunStart
from workflows.stats.prompt_notes import PromptNoteBody

VERSION = "1.0.0"
COMPONENTS = "#/components/schemas/{model}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One route: what it does, the scope its token needs, what it takes and answers."""

    method: str
    path: str
    summary: str
    scope: str
    ok: tuple[int, ...]
    body: type[BaseModel] | None = None
    query: tuple[tuple[str, str, dict[str, Any]], ...] = ()


_STATUS_QUERY = ("status", "Comma-separated statuses (default: all)", {"type": "string"})
_PAGE_QUERY: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("since", "Only items from this time on (ISO 8601)", {"type": "string", "format": "date-time"}),
    ("until", "Only items before this time (ISO 8601)", {"type": "string", "format": "date-time"}),
    ("limit", "Items per page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    ("cursor", "next_cursor from the previous page", {"type": "string"}),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation("post", "/api/v1/runs", "Start a run (the same run_id again rejoins it)",
              "runs:write", (201, 200), RunStart),
    Operation("get", "/api/v1/runs", "List the workflow's runs, oldest first, a page at a time",
              "runs:read", (200,), query=(*_PAGE_QUERY, _STATUS_QUERY)),
    Operation("post", "/api/v1/runs/{run_id}/events", "Append steps, de-duplicated by event ID",
              "runs:write", (202,), EventBatch),
    Operation("post", "/api/v1/runs/{run_id}/finish", "Finish a run with its result or error",
              "runs:write", (200,), RunFinish),
    Operation("get", "/api/v1/runs/{run_id}", "Read a run with its steps, redacted",
              "runs:read", (200,)),
    Operation("post", "/api/v1/runs/{run_id}/gate", "Ask the gate before acting",
              "runs:write", (200,), GateBody),
    Operation("post", "/api/v1/runs/{run_id}/handoffs", "Hand a case to a person",
              "handoffs:write", (201,), HandoffBody),
    Operation("post", "/api/v1/runs/{run_id}/park", "Park a job that cannot finish",
              "runs:write", (201, 200), ParkBody),
    Operation("get", "/api/v1/handoffs",
              "List the workflow's handoffs, oldest first, a page at a time", "runs:read",
              (200,), query=(*_PAGE_QUERY, _STATUS_QUERY,
                             ("kind", "Comma-separated handoff kinds", {"type": "string"}))),
    Operation("get", "/api/v1/handoffs/{handoff_id}",
              "Read a handoff's decision, long-polling up to `wait` seconds", "runs:read",
              (200,),
              query=(("wait", "Seconds to wait for a decision (0 to 60)",
                      {"type": "number", "minimum": 0, "maximum": 60, "default": 0}),)),
    Operation("post", "/api/v1/handoffs/{handoff_id}/act",
              "State once that the approval is acted on, with its approval_digest",
              "handoffs:write", (200,), ActBody),
    Operation("get", "/api/v1/parked", "List parked jobs", "runs:read", (200,),
              query=(("status", "Comma-separated statuses (default: those still waiting)",
                      {"type": "string"}),)),
    Operation("post", "/api/v1/parked/claim", "Claim jobs a person marked to resume",
              "runs:write", (200,), ClaimBody),
    Operation("get", "/api/v1/parked/{parked_id}", "Read a parked job", "runs:read", (200,)),
    Operation("get", "/api/v1/workflows/{name}",
              "Read the token's workflow: policy, retry cap, pause state", "runs:read", (200,)),
    Operation("post", "/api/v1/workflows/{name}/pause", "Pause the token's workflow",
              "admin", (200,), PauseBody),
    Operation("post", "/api/v1/workflows/{name}/resume", "Resume the token's workflow",
              "admin", (200,), ResumeBody),
    Operation("get", "/api/v1/workflows/{name}/stats",
              "Review metrics, calibration, shadow agreement and suggested thresholds",
              "runs:read", (200,),
              query=(("since", "The window, e.g. 30d or 12h (default 30d)", {"type": "string"}),
                     ("by", "Split the metrics by one of these",
                      {"type": "string", "enum": ["action", "prompt_version", "reviewer"]}))),
    Operation("get", "/api/v1/workflows/{name}/prompt-notes",
              "The prompt-version changelog, with versions first seen without a note",
              "runs:read", (200,)),
    Operation("post", "/api/v1/workflows/{name}/prompt-notes",
              "Say why a prompt version was made (one note per version)", "runs:write", (201, 200),
              PromptNoteBody),
)  # fmt: skip

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_input"]},
                "message": {"type": "string", "description": "What was wrong, for a person."},
                "details": {
                    "type": "array",
                    "description": "Where: each item's `loc` names the field, e.g. events[3].type.",
                    "items": {"type": "object"},
                },
            },
        }
    },
}
ERRORS = {
    "400": "The body is not JSON",
    "401": "The token is missing, unknown, expired or revoked",
    "403": "The token lacks the scope",
    "404": "Not found in the token's workflow",
    "409": "Clashes with the current state (e.g. steps sent to a finished run)",
    "413": "The body is over HANDRAIL_MAX_BODY_BYTES",
    "422": "A value is invalid; details name each field",
    "423": "The workflow is paused",
    "429": "Too many requests; honour Retry-After",
}


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of API v1, with the request models as components."""
    models = sorted({op.body for op in OPERATIONS if op.body}, key=lambda m: m.__name__)
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=COMPONENTS
    )
    schemas = dict(sorted(definitions.get("$defs", {}).items()))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": op.summary,
            "description": f"Needs a token with the `{op.scope}` scope.",
            "security": [{"bearer": []}],
            "responses": _responses(op),
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_parameters(op.path)
        ] + [
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
            for name, text, schema in op.query
        ]
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Handrail API",
            "version": VERSION,
            "description": "The run ledger, the review gate and parked jobs, for automations.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _error_responses(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A workflow token from `handrail token create`.",
                }
            },
        },
    }


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _responses(op: Operation) -> dict[str, Any]:
    answer = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    responses: dict[str, Any] = {str(status): answer for status in op.ok}
    for status in ERRORS:
        responses[status] = {"$ref": f"#/components/responses/Error{status}"}
    return responses


def _error_responses() -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {f"Error{status}": {"description": text, **error} for status, text in ERRORS.items()}


def render() -> str:
    """The document as checked in: keys in route order, so it reads like the API."""
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bot.api.openapi PATH (e.g. docs/openapi.json)", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
