"""What automations send: the request bodies of API v1, validated strictly.

Unknown fields are rejected (a typo should not silently drop data), numbers are never
read from booleans or strings (``"confidence": true`` must not pass a gate), and every
error names its place, e.g. ``events[3].type`` or ``events[0].input.n``. What passes can
be stored as sent on SQLite and PostgreSQL alike (see ``workflows.bodies.json_values``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails

from workflows.bodies.json_values import UnstorableNumber, storable_json, unstorable_numbers
from workflows.identifiers import RUN_ID_PATTERN

EventType = Literal["prompt", "model", "tool", "retry", "action", "error", "note"]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=200_000)]
Confidence = Annotated[float, Field(ge=0, le=1, strict=True)]
#: ``tokens_in``/``tokens_out`` are 32-bit ``Integer`` columns on PostgreSQL.
TokenCount = Annotated[int, Field(ge=0, le=2**31 - 1, strict=True)]
EARLIEST_YEAR = 1000


def _storable_in_utc(moment: datetime) -> datetime:
    """Times are stored in UTC, and SQLite keeps them as text that sorts by a 4-digit year.

    0001-01-01T00:00+14:00 has no UTC equivalent at all; 0001-01-01T00:00Z (Go's zero
    time) would be written as ``1-01-01`` and make the run unreadable.
    """
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or utc.year < EARLIEST_YEAR:
        raise ValueError(f"the time must fall between the years {EARLIEST_YEAR} and 9999 in UTC")
    return moment


Timestamp = Annotated[AwareDatetime, AfterValidator(_storable_in_utc)]


class RequestBody(BaseModel):
    """The base of every request body of API v1: one set of value rules for all of them."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self, info: ValidationInfo) -> Self:
        """Replace NULs in every string and refuse numbers no store keeps, at their place.

        One walk over the parsed body, in JSON mode only: that is how requests arrive,
        and the Python client's own objects are not the server's to change.
        """
        if info.mode != "json":
            return self
        problems: list[InitErrorDetails] = []
        for name, value in self.__dict__.items():
            try:
                self.__dict__[name] = storable_json(value)
            except UnstorableNumber:
                problems.extend(unstorable_numbers(value, (name,)))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


class RunStart(RequestBody):
    run_id: Annotated[str, Field(pattern=RUN_ID_PATTERN)] | None = None
    input_source: Annotated[str, Field(max_length=2000)] | None = None
    prompt_version: ShortText | None = None
    model: ShortText | None = None
    metadata: dict[str, JsonValue] | None = None


class EventIn(RequestBody):
    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    type: EventType
    name: Annotated[str, Field(min_length=1, max_length=200)]
    status: Annotated[str, Field(max_length=32)] | None = None
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    duration_ms: Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)] | None = None
    # Any, not JsonValue: bodies arrive as JSON, so these are JSON already, and walking
    # them again for validation costs as much as everything else in a batch.
    input: Any = None
    output: Any = None
    error: LongText | None = None
    model: ShortText | None = None
    settings: dict[str, Any] | None = None
    prompt_version: ShortText | None = None
    tokens_in: TokenCount | None = None
    tokens_out: TokenCount | None = None

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


class EventBatch(RequestBody):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


class RunFinish(RequestBody):
    status: Literal["succeeded", "failed", "cancelled"]
    result: JsonValue = None
    error: LongText | None = None


ActionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,99}$")]


RequestId = Annotated[str, Field(min_length=1, max_length=100)]


class GateBody(RequestBody):
    request_id: RequestId | None = None
    action: ActionName
    draft: LongText | None = None
    confidence: Confidence | None = None
    summary: Annotated[str, Field(max_length=2000)] | None = None
    payload: Any = None


class HandoffBody(RequestBody):
    request_id: RequestId | None = None
    kind: Literal[
        "draft", "low_confidence", "stop_rule", "approval_required", "tool_failure", "other"
    ]
    summary: Annotated[str, Field(min_length=1, max_length=2000)]
    action: ActionName | None = None
    draft: LongText | None = None
    confidence: Confidence | None = None
    tool: ShortText | None = None
    error: LongText | None = None
    last_step: Annotated[str, Field(max_length=2000)] | None = None
    context: Any = None


class ActBody(RequestBody):
    """``POST /api/v1/handoffs/{id}/act``: the digest the decision carried, handed back.

    Any text up to 200 characters is taken, so a wrong digest is refused (and recorded
    as an incident) by the comparison, not by the schema.
    """

    approval_digest: Annotated[str, Field(min_length=1, max_length=200)]
