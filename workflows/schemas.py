"""What automations send: the request bodies of API v1, validated strictly.

Unknown fields are rejected (a typo should not silently drop data), and every error names
its place, e.g. ``events[3].type``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, model_validator

from workflows.identifiers import RUN_ID_PATTERN

EventType = Literal["prompt", "model", "tool", "retry", "action", "error", "note"]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=200_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunStart(_Body):
    run_id: Annotated[str, Field(pattern=RUN_ID_PATTERN)] | None = None
    input_source: Annotated[str, Field(max_length=2000)] | None = None
    prompt_version: ShortText | None = None
    model: ShortText | None = None
    metadata: dict[str, JsonValue] | None = None


class EventIn(_Body):
    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    type: EventType
    name: Annotated[str, Field(min_length=1, max_length=200)]
    status: Annotated[str, Field(max_length=32)] | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    duration_ms: Annotated[float, Field(ge=0)] | None = None
    # Any, not JsonValue: bodies arrive as JSON, so these are JSON already, and walking
    # them again for validation costs as much as everything else in a batch.
    input: Any = None
    output: Any = None
    error: LongText | None = None
    model: ShortText | None = None
    settings: dict[str, Any] | None = None
    prompt_version: ShortText | None = None
    tokens_in: Annotated[int, Field(ge=0)] | None = None
    tokens_out: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventIn:
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self

    def measured_duration_ms(self) -> float | None:
        """The duration as sent, or derived from the two timestamps."""
        if self.duration_ms is not None:
            return self.duration_ms
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds() * 1000
        return None


class EventBatch(_Body):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


class RunFinish(_Body):
    status: Literal["succeeded", "failed", "cancelled"]
    result: JsonValue = None
    error: LongText | None = None


ActionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,99}$")]


RequestId = Annotated[str, Field(min_length=1, max_length=100)]


class GateBody(_Body):
    request_id: RequestId | None = None
    action: ActionName
    draft: LongText | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    summary: Annotated[str, Field(max_length=2000)] | None = None
    payload: Any = None


class HandoffBody(_Body):
    request_id: RequestId | None = None
    kind: Literal[
        "draft", "low_confidence", "stop_rule", "approval_required", "tool_failure", "other"
    ]
    summary: Annotated[str, Field(min_length=1, max_length=2000)]
    action: ActionName | None = None
    draft: LongText | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    tool: ShortText | None = None
    error: LongText | None = None
    last_step: Annotated[str, Field(max_length=2000)] | None = None
    context: Any = None
