"""The database schema: typed SQLAlchemy 2 models.

Relationships load with ``lazy="raise"`` so every read says what it needs; concurrency is
decided by the unique indexes and conditional updates declared here, not by read-then-write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from store.types import BigKey, JsonDocument, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names, so migrations match on both databases."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Workflow(Base):
    """A workflow known to this installation; its brief lives in workflows.yml, its switch here."""

    __tablename__ = "workflows"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_by: Mapped[str | None] = mapped_column(String(64))
    paused_reason: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str | None] = mapped_column(String(16))
    """The brief's mode at the last server start: a change is audited (``workflows.backtest``)."""


class Credential(Base):
    """A workflow's service-account token: only a SHA-256 of the secret is kept."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JsonDocument)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """The last time this token was presented after it was revoked or had expired."""
    rejected_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Run(Base):
    """One execution of a workflow; ``event_count`` hands out the order of its steps."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_workflow_started_at", "workflow", "started_at"),
        Index(
            "ix_runs_workflow_prompt_version_started_at", "workflow", "prompt_version", "started_at"
        ),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"))
    status: Mapped[str] = mapped_column(String(16))
    input_source: Mapped[str | None] = mapped_column(Text)
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JsonDocument)
    result: Mapped[Any | None] = mapped_column(JsonDocument)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    redactions: Mapped[dict[str, int] | None] = mapped_column(JsonDocument)


class Event(Base):
    """One step of a run, redacted before it was written; ``seq`` is the server's order."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),
        Index("uq_events_run_id_client_id", "run_id", "client_id", unique=True),
        Index("uq_events_run_id_server_key", "run_id", "server_key", unique=True),
        Index("ix_events_workflow_recorded_at", "workflow", "recorded_at"),
        Index(
            "ix_events_gate_questions",
            "workflow",
            "recorded_at",
            "name",
            "status",
            "run_id",
            "type",
            postgresql_where=text("type = 'gate'"),
            sqlite_where=text("type = 'gate'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    workflow: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(128))
    """The automation's own event ID, any text it likes: its batches are de-duplicated by it."""
    server_key: Mapped[str | None] = mapped_column(String(128))
    """The request a step of Handrail's own answers (``gate:<request_id>``): never client input,
    so no event an automation sends can pose as a gate verdict, a handoff or a parked job."""
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    input: Mapped[Any | None] = mapped_column(JsonDocument)
    output: Mapped[Any | None] = mapped_column(JsonDocument)
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    redactions: Mapped[dict[str, int] | None] = mapped_column(JsonDocument)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handoff(Base):
    """A case put in front of a person; ``status`` moves out of ``pending`` exactly once."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_workflow_status_created_at", "workflow", "status", "created_at"),
        Index("ix_handoffs_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    draft: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    stop_topic: Mapped[str | None] = mapped_column(String(200))
    tool: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    last_step: Mapped[str | None] = mapped_column(Text)
    context: Mapped[Any | None] = mapped_column(JsonDocument)
    payload: Mapped[Any | None] = mapped_column(JsonDocument)
    reasons: Mapped[list[str] | None] = mapped_column(JsonDocument)
    """Every reason the gate gave, in its words; ``None`` for a handoff the gate did not open."""
    shadow: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """Posted for comparison only (shadow mode): no decision on it lets the automation act."""
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    """Who clicked a deciding button first, claimed before the click was acknowledged."""
    claimed_outcome: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the claim was made: the decision is recorded from the claim, at this time."""
    first_look_ms: Mapped[int | None] = mapped_column(Integer)
    """How long after opening a reviewer first opened the Edit or Reject modal on it."""
    quorum_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Which text the approvals of a quorum are of: an edit starts the next round."""
    quorum_text: Mapped[str | None] = mapped_column(Text)
    """The edited text the current round approves; None: the draft as it came."""
    quorum: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    """Where the quorum stands, for the message: required, from, approvers, still needed."""


class Decision(Base):
    """What a person decided on a handoff; one per handoff, enforced by a unique index."""

    __tablename__ = "decisions"
    __table_args__ = (Index("uq_decisions_audit_sequence", "audit_sequence", unique=True),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), unique=True
    )
    run_id: Mapped[str] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    reviewer: Mapped[str] = mapped_column(String(64))
    final_text: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_digest: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of what was approved (``workflows.review.approval``); approvals and edits only."""
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the automation said it acted on the approval; set once, by a conditional UPDATE."""
    audit_sequence: Mapped[int | None] = mapped_column(BigInteger)
    approvers: Mapped[list[str] | None] = mapped_column(JsonDocument)
    """Every reviewer whose approval made the quorum, in the order they approved."""
    """The audit entry that records this decision (``handrail audit verify`` compares them)."""


class ApprovalVote(Base):
    """One reviewer's approval towards a quorum, of the text of one round.

    The unique index is what stops a person counting twice, whatever the clicks race.
    """

    __tablename__ = "approval_votes"
    __table_args__ = (
        Index(
            "uq_approval_votes_handoff_round_reviewer",
            "handoff_id",
            "round",
            "reviewer",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    groups: Mapped[list[str]] = mapped_column(JsonDocument)
    """The quorum's ``from`` usergroups the reviewer was a member of when approving."""
    approval_digest: Mapped[str] = mapped_column(String(64))
    """The digest of what this vote approved (``workflows.review.approval``)."""
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_sequence: Mapped[int | None] = mapped_column(BigInteger)
    """The audit entry recording this vote, which ``audit verify`` compares it with."""


class OutboxMessage(Base):
    """A write to Slack or a webhook, committed with the change that causes it.

    ``dedupe_key`` makes enqueueing idempotent; ``ordering_key`` keeps updates to one
    message in order (a row is not sent while an older row with the same key is unsent).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_available_at", "status", "available_at"),
        Index("ix_outbox_ordering_key_id", "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    workflow: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what and why: pauses, resumes, tokens, decisions, acts.

    A link of a hash chain (``store.audit_chain``): ``hash`` covers the entry's fields and
    ``prev_hash``, the hash of the entry with the sequence number before it.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_workflow_at", "workflow", "at"),
        Index("uq_audit_log_sequence", "sequence", unique=True),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    """1, 2, 3… with no gap: handed out under the chain's lock, unlike ``id``."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    workflow: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class Lease(Base):
    """A named lease: the instance holding it runs the scheduled job of that name."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkedJob(Base):
    """An unfinished job kept with its context, so a retry resumes instead of starting over."""

    __tablename__ = "parked_jobs"
    __table_args__ = (
        Index("ix_parked_jobs_workflow_status_created_at", "workflow", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"))
    status: Mapped[str] = mapped_column(String(16))
    input_ref: Mapped[str | None] = mapped_column(Text)
    last_step: Mapped[str] = mapped_column(Text)
    extracted: Mapped[Any | None] = mapped_column(JsonDocument)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    handoff_id: Mapped[str | None] = mapped_column(String(32))


class Alert(Base):
    """A rule that fired, with one Slack message updated in place.

    ``open_key`` is set while the alert is open and cleared when it resolves; its unique
    index is what keeps one open alert per workflow, rule and fingerprint.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_workflow_status", "workflow", "status"),
        Index("ix_alerts_resolved_at", "resolved_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"))
    rule: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    threshold: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_id: Mapped[str | None] = mapped_column(String(128))
    sample: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clear_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class PromptNote(Base):
    """Why a prompt version was made, by whom: one note per version of a workflow."""

    __tablename__ = "prompt_notes"
    __table_args__ = (UniqueConstraint("workflow", "version"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    workflow: Mapped[str] = mapped_column(ForeignKey("workflows.name"))
    version: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DayTally:
    """What every stats tally has: one day of one workflow, and the count (a signed delta
    until folded) under the key its other columns make. Written only by the triggers of
    migration 0011; read and folded by ``store.repositories.tallies``."""

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    workflow: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    """The UTC day, ``YYYY-MM-DD``."""
    n: Mapped[int] = mapped_column(Integer)
    __tablename__: str

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Index]:
        return (Index(f"ix_{cls.__tablename__}_workflow_day", "workflow", "day"),)


class TallyCases(DayTally, Base):
    """Handoffs counted per UTC day of opening and everything the review metrics tell apart.

    A handoff adds ``+1`` under what it is, and a change moves it (``-1`` under what it
    was, ``+1`` under what it became). ``handrail stats`` sums whole days here instead of
    grouping every handoff. ``fast`` counts approvals quicker than the draft can be read.
    """

    __tablename__ = "tally_cases"

    action: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    """The prompt version the handoff's run named."""
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    shadow: Mapped[bool] = mapped_column(Boolean)
    centile: Mapped[int | None] = mapped_column(Integer)
    stop_topic: Mapped[bool] = mapped_column(Boolean)
    fast: Mapped[int] = mapped_column(Integer)


class TallyReviewTimes(DayTally, Base):
    """Decided handoffs per UTC day of opening, action, prompt version and review/first-look
    time bucket (``store.repositories.stats._bucket``); kept like :class:`TallyCases`."""

    __tablename__ = "tally_review_times"

    action: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    review_ms: Mapped[int] = mapped_column(BigInteger)
    first_look_ms: Mapped[int] = mapped_column(BigInteger)


class TallyReviewerCases(DayTally, Base):
    """Handoffs per UTC day of opening and who decided them (NULL: nobody yet), with the
    decision's outcome; the reviewer split, reviewer load and rubber-stamp signals."""

    __tablename__ = "tally_reviewer_cases"

    reviewer: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    shadow: Mapped[bool] = mapped_column(Boolean)
    fast: Mapped[int] = mapped_column(Integer)


class TallyReviewerTimes(DayTally, Base):
    """Decided handoffs per UTC day of opening, reviewer and review/first-look time bucket."""

    __tablename__ = "tally_reviewer_times"

    reviewer: Mapped[str | None] = mapped_column(String(64))
    review_ms: Mapped[int] = mapped_column(BigInteger)
    first_look_ms: Mapped[int] = mapped_column(BigInteger)


class TallyGateVerdicts(DayTally, Base):
    """Gate questions per UTC day asked, action, prompt version and verdict."""

    __tablename__ = "tally_gate_verdicts"

    action: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str | None] = mapped_column(String(32))
