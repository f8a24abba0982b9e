"""workflows.yml: the written brief of every workflow, validated before anything starts.

A bad file stops start-up with one line per problem naming the workflow, the field and the
reason, so the person fixing it never has to guess which of twenty workflows is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workflows.config.rules import raise_problems, workflow_problems
from workflows.durations import format_duration, parse_duration
from workflows.errors import ConfigError
from workflows.redaction import PERSONAL_KINDS, validate_custom_pattern

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
SlackId = Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,}$")]
ChannelId = Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]


#: A matched stop topic is stored on its handoff (``handoffs.stop_topic``, 200 wide).
MAX_STOP_TOPIC_LENGTH = 200


def _check_stop_topic(topic: str) -> str:
    if not topic.split():
        raise ValueError("a stop topic needs at least one word; a blank one matches every draft")
    if len(topic) > MAX_STOP_TOPIC_LENGTH:
        raise ValueError(
            f"a stop topic is at most {MAX_STOP_TOPIC_LENGTH} characters; this one is {len(topic)}"
        )
    return topic


StopTopic = Annotated[str, AfterValidator(_check_stop_topic)]
WORKFLOW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_workflow_name(name: str) -> str:
    if not WORKFLOW_NAME.match(name):
        raise ValueError(
            "a workflow name must be 1 to 64 lowercase letters, digits, - or _, "
            "starting with a letter or a digit"
        )
    return name


WorkflowName = Annotated[str, AfterValidator(_check_workflow_name)]
"""Checked as the key of the ``workflows:`` mapping, so a bad name is reported together with
the problems in every workflow's fields rather than only once they are all fixed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Strict):
    max_attempts: int = Field(default=3, ge=1, le=20)


class RepeatedErrorRule(_Strict):
    count: int = Field(default=5, ge=1)
    window: Duration = timedelta(minutes=15)


class LatencyRule(_Strict):
    threshold: Duration = timedelta(seconds=5)
    consecutive: int = Field(default=3, ge=1, le=1000)
    window: Duration = timedelta(minutes=15)
    """Only calls this recent count, so a quiet workflow's last slow calls do not fire forever."""


class ErrorRateRule(_Strict):
    percent: float = Field(default=2, gt=0, le=100)
    window: Duration = timedelta(minutes=10)
    min_calls: int = Field(default=50, ge=1)


class TokenSpikeRule(_Strict):
    """Tokens per model call in ``window`` against the ``baseline`` before it, per prompt
    version: a new version has no baseline yet, so it starts its own."""

    percent: float = Field(default=30, gt=0)
    window: Duration = timedelta(minutes=15)
    baseline: Duration = Field(default=timedelta(hours=2), validate_default=True)
    min_calls: int = Field(default=20, ge=1)
    """Calls needed in the window and in the baseline before a spike can be called."""

    @field_validator("baseline")
    @classmethod
    def _baseline_is_longer(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        window = info.data.get("window")
        if isinstance(window, timedelta) and value < window:
            raise ValueError(
                f"baseline ({format_duration(value)}) must be at least as long as "
                f"window ({format_duration(window)})"
            )
        return value


class StaleHandoffRule(_Strict):
    """A pending handoff: remind the reviewers, then escalate to on-call, before it expires.

    Both are shares of the workflow's ``review_timeout``, so they stay in order whatever
    the timeout is; at 100% the handoff expires (never approved).
    """

    remind_percent: float = Field(default=50, gt=0, lt=100)
    escalate_percent: float = Field(default=75, gt=0, lt=100)

    @field_validator("escalate_percent")
    @classmethod
    def _escalate_after_remind(cls, value: float, info: ValidationInfo) -> float:
        remind = info.data.get("remind_percent")
        if isinstance(remind, int | float) and value <= remind:
            raise ValueError(
                f"escalate_percent ({value:g}) must be greater than remind_percent ({remind:g}): "
                "reviewers are reminded first, on-call is called after"
            )
        return value


class CredentialRule(_Strict):
    """Token hygiene: reminders before expiry and after the rotation period."""

    expiry_warning: Duration = timedelta(days=14)
    rotate_after: Duration = timedelta(days=90)
    misuse_window: Duration = timedelta(hours=1)
    """A revoked or expired token in use fires an alert that resolves after this long unused."""


class AlertRules(_Strict):
    repeated_error: RepeatedErrorRule = RepeatedErrorRule()
    latency: LatencyRule = LatencyRule()
    error_rate: ErrorRateRule = ErrorRateRule()
    token_spike: TokenSpikeRule = TokenSpikeRule()
    stale_handoff: StaleHandoffRule = StaleHandoffRule()
    credentials: CredentialRule = CredentialRule()
    repeat_interval: Duration = timedelta(hours=4)
    escalate_after: Duration = timedelta(minutes=15)


class CustomPattern(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    pattern: str

    @model_validator(mode="after")
    def _usable(self) -> CustomPattern:
        """The redactor's own check: compiles, a name of its own, never matches nothing."""
        validate_custom_pattern(self.name, self.pattern)
        return self


def _redact_entry_kind(value: Any) -> str:
    return "builtin" if isinstance(value, str) else "custom"


RedactEntry = Annotated[
    Annotated[Literal["secrets", "emails", "phones", "card_numbers", "ibans"], Tag("builtin")]
    | Annotated[CustomPattern, Tag("custom")],
    Discriminator(_redact_entry_kind),
]


class ApprovalRule(_Strict):
    """How many distinct reviewers must approve an action, and from which usergroups.

    ``from``: one approver from each usergroup listed; the rest of ``required`` may be
    any reviewer. Checked against the rest of the brief in ``workflows.config.rules``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    required: int = Field(ge=1, le=20)
    from_: list[Annotated[str, Field(pattern=r"^S[A-Z0-9]{2,}$")]] = Field(default=[], alias="from")


class WorkflowConfig(_Strict):
    """One workflow's brief: what it may do, when it must stop, who reviews and who is paged."""

    description: str = ""
    owner: SlackId | None = None
    review_channel: ChannelId | None = None
    alert_channel: ChannelId | None = None
    reviewers: list[SlackId] = []
    admins: list[SlackId] = []
    oncall: list[SlackId] = []
    mode: Literal["shadow", "review", "auto"] = "review"
    allowed_actions: list[str] = []
    require_approval: list[str] = []
    approvals: dict[str, ApprovalRule] = {}
    """Per action, the quorum of reviewers its approval needs (``workflows.review.quorum``)."""
    confidence_threshold: float = Field(default=0.8, ge=0, le=1)
    stop_topics: list[StopTopic] = []
    review_timeout: Duration = timedelta(hours=2)
    callback_url: AnyHttpUrl | None = None
    callback_secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    retries: RetryPolicy = RetryPolicy()
    alerts: AlertRules = AlertRules()
    redact: list[RedactEntry] = ["secrets"]
    minutes_per_case: float | None = Field(default=None, gt=0, le=1440)
    """A person's minutes per case, for the review metrics' time-saved estimate."""
    calibration_target: float = Field(default=0.98, gt=0.5, lt=1)
    """The share approved unchanged a suggested confidence threshold must reach."""
    retention: Duration | None = None
    """How long runs are kept with their steps, handoffs, decisions and deliveries; None keeps
    them. The scheduled purge (``workflows.lifecycle.retention``) deletes what is older."""

    @model_validator(mode="after")
    def _fits_together(self, info: ValidationInfo) -> WorkflowConfig:
        """Field combinations that load but could never work; with an ``environ`` in the
        validation context (start-up), the environment the brief relies on too."""
        context = info.context if isinstance(info.context, dict) else {}
        raise_problems("WorkflowConfig", workflow_problems(self, environ=context.get("environ")))
        return self

    @property
    def personal_data_kinds(self) -> frozenset[str]:
        """The personal-data kinds this workflow redacts on top of the secrets."""
        return frozenset(entry for entry in self.redact if isinstance(entry, str)) & frozenset(
            PERSONAL_KINDS
        )

    @property
    def custom_patterns(self) -> tuple[tuple[str, str], ...]:
        return tuple((e.name, e.pattern) for e in self.redact if isinstance(e, CustomPattern))


class HandrailConfig(_Strict):
    """The whole file: workflows by name."""

    workflows: dict[WorkflowName, WorkflowConfig]

    def workflow(self, name: str) -> WorkflowConfig | None:
        return self.workflows.get(name)


def parse_config(
    data: Any, *, source: str = "workflows.yml", environ: Mapping[str, str] | None = None
) -> HandrailConfig:
    """Validate already-loaded YAML; raise ``ConfigError`` listing every problem.

    With ``environ``, the environment variables the file names (callback secrets) must be
    set in it too; without, only the file itself is checked.
    """
    if not isinstance(data, dict) or "workflows" not in data:
        raise ConfigError([f"{source}: the file must have a top-level 'workflows:' mapping"])
    try:
        return HandrailConfig.model_validate(data, context={"environ": environ})
    except ValidationError as exc:
        raise ConfigError([_describe(error, source) for error in exc.errors()]) from None


def load_config(path: Path, *, environ: Mapping[str, str] | None = None) -> HandrailConfig:
    """Read and validate ``path``; a missing or unreadable file is a ``ConfigError`` too.

    ``environ`` (the server passes its process environment) also checks the variables the
    file names. Other commands leave it out: ``handrail pause all`` must work from any
    shell, even one without the callback secrets.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: file not found; copy workflows.example.yml to {path} and edit it"]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_config(data, source=str(path), environ=environ)


def _describe(error: Any, source: str) -> str:
    loc = [str(part) for part in error["loc"] if part not in ("builtin", "custom")]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) == 3 and loc[0] == "workflows" and loc[2] == "[key]":
        return f"{source}: workflow '{loc[1]}', its name: {message}"
    if len(loc) >= 2 and loc[0] == "workflows":
        field = ".".join(loc[2:]) or "(the workflow itself)"
        return f"{source}: workflow '{loc[1]}', field '{field}': {message}"
    return f"{source}: field '{'.'.join(loc)}': {message}"
