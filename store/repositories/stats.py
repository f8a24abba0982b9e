"""The review metrics' queries: aggregates computed by the database, never rows in Python.

Each query reads one workflow's window through an index (gate questions through the partial
covering ``ix_events_gate_questions``, handoffs through ``ix_handoffs_workflow_status_created_at``,
decisions by their unique ``handoff_id``) and returns a few hundred grouped rows at most,
whatever the number of cases: memory stays flat. A handoff's own ``decided_at`` is its
decision's time, so most figures read handoffs alone and join decisions only for what
only they hold (reviewer, category, diff). Percentiles are nearest-rank over
duration buckets counted in SQL (see ``review_histogram``), so the two databases agree.

The cases, gate verdicts, review times, reviewer loads and outcomes per day, whatever the
split, are read from the per-day tallies (``store.repositories.tallies``) for the window's
whole UTC days, and from the rows only for its partial first and last day: a few thousand
tally rows instead of every case. The rejections by category and the edit diffs read the
rows (both narrow index reads of one status).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Decision,
    Event,
    Handoff,
    Run,
    TallyCases,
    TallyGateVerdicts,
    TallyReviewerCases,
    TallyReviewerTimes,
    TallyReviewTimes,
)
from store.repositories import tallies

Split = Literal["action", "prompt_version", "reviewer"] | None
#: Grouped counts: the keys, then the counts summed for them.
Rows = list[tuple[Any, ...]]
#: The label of a split with no value: a tool failure has no action, a run no version.
NO_VALUE = "(none)"
UNDECIDED = "(undecided)"
#: Confidence is grouped in hundredths: thresholds are suggested to two decimals.
CENTILES = 100
#: Handoff statuses a person's decision leaves (``expired`` sets ``decided_at`` too).
DECIDED = ("approved", "edited", "rejected", "taken_over", "retry_requested")


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    workflow: str
    start: datetime
    end: datetime


def _summed(rows: Rows, *, values: int) -> Rows:
    """Rows with equal keys (all but the last ``values`` columns) added together."""
    totals: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key, counts = tuple(row[:-values]), row[-values:]
        total = totals.setdefault(key, [0] * values)
        for i, count in enumerate(counts):
            total[i] += int(count or 0)
    return [(*key, *total) for key, total in totals.items() if total[0]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingSpeed:
    """How fast a person can read a draft, to flag approvals faster than that."""

    ms_per_char: int
    floor_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseGroup:
    """Handoffs sharing every grouped column, counted."""

    split: str
    kind: str
    status: str
    shadow: bool
    centile: int | None
    stop_topic: bool
    count: int
    fast_approvals: int


def _handoffs_in(window: Window) -> ColumnElement[bool]:
    return and_(
        Handoff.workflow == window.workflow,
        Handoff.created_at >= window.start,
        Handoff.created_at < window.end,
    )


def _handoff_split(split: Split) -> ColumnElement[Any]:
    if split == "action":
        return func.coalesce(Handoff.action, NO_VALUE)
    if split == "prompt_version":
        return func.coalesce(Run.prompt_version, NO_VALUE)
    if split == "reviewer":
        return func.coalesce(Decision.reviewer, UNDECIDED)
    return literal("*")


def _with_split(query: Select[Any], split: Split, *, decisions: bool = False) -> Any:
    """From handoffs, joined to what the split (or the caller, with ``decisions``) needs."""
    query = query.select_from(Handoff)
    if decisions:
        query = query.join(Decision, Decision.handoff_id == Handoff.id)
    elif split == "reviewer":  # undecided cases count too, under UNDECIDED
        query = query.outerjoin(Decision, Decision.handoff_id == Handoff.id)
    if split == "prompt_version":
        query = query.join(Run, Run.id == Handoff.run_id)
    return query


def _elapsed_ms(dialect: str) -> ColumnElement[Any]:
    """Milliseconds from opening to deciding, from the handoff's own two times."""
    if dialect == "postgresql":
        seconds: Any = func.extract("epoch", Handoff.decided_at - Handoff.created_at)
    else:
        seconds = (func.julianday(Handoff.decided_at) - func.julianday(Handoff.created_at)) * 86400
    return cast(func.round(seconds * 1000), BigInteger)


def _centile(dialect: str) -> ColumnElement[Any]:
    """The confidence's hundredth, 0 to 99 (1.0 counts in the top one); NULL when missing.

    SQLite's CAST truncates, PostgreSQL's rounds, hence floor() there. The tiny nudge keeps
    0.29 (stored as 0.28999…) in its own hundredth.
    """
    scaled = Handoff.confidence * CENTILES + 1e-9
    whole: Any = func.floor(scaled) if dialect == "postgresql" else scaled
    value = cast(whole, Integer)
    return case((value > CENTILES - 1, CENTILES - 1), else_=value)


def _fast_approval(speed: ReadingSpeed, dialect: str) -> ColumnElement[bool]:
    """Approved sooner than a person reads the draft (length x ms per char, at least a floor)."""
    reading = func.coalesce(func.length(Handoff.draft), 0) * speed.ms_per_char
    needed = case((reading > speed.floor_ms, reading), else_=speed.floor_ms)
    return and_(Handoff.status == "approved", _elapsed_ms(dialect) < needed)


TALLY_SPEED = ReadingSpeed(
    ms_per_char=tallies.READING_MS_PER_CHAR, floor_ms=tallies.READING_FLOOR_MS
)


def _tallied(window: Window) -> tuple[tallies.Days | None, list[Window]]:
    """The window's whole days to read from the tallies and the edges to read from the rows
    (a test replaces this to read every figure from the rows, and compares)."""
    days, edges = tallies.whole_days(window.start, window.end)
    return days, [Window(workflow=window.workflow, start=a, end=b) for a, b in edges]


async def _tallies_then_rows(
    window: Window,
    *,
    from_tallies: Callable[[tallies.Days], Awaitable[Rows]],
    from_rows: Callable[[Window], Awaitable[Rows]],
    values: int,
    tallied: bool = True,
) -> Rows:
    """One figure's grouped counts: the whole days from the tallies, the edges (or, when
    not ``tallied``, the whole window) from the rows, equal keys summed (see ``_summed``)."""
    days, edges = _tallied(window) if tallied else (None, [window])
    rows = await from_tallies(days) if days is not None else []
    for edge in edges:
        rows += await from_rows(edge)
    return _summed(rows, values=values)


async def count_cases(
    db: AsyncSession, window: Window, *, split: Split, speed: ReadingSpeed
) -> list[CaseGroup]:
    """Every handoff of the window grouped by what the metrics tell apart."""
    rows = await _tallies_then_rows(
        window,
        from_tallies=lambda days: _tallied_cases(db, window.workflow, days, split=split),
        from_rows=lambda edge: _count_case_rows(db, edge, split=split, speed=speed),
        values=2,
        tallied=speed == TALLY_SPEED,
    )
    return [
        CaseGroup(
            split=str(split_value),
            kind=str(kind),
            status=str(status),
            shadow=bool(shadow),
            centile=None if band is None else int(band),
            stop_topic=bool(stop),
            count=int(count),
            fast_approvals=int(fast_count or 0),
        )
        for split_value, kind, status, shadow, band, stop, count, fast_count in rows
    ]


def _split_of(table: Any, split: Split) -> ColumnElement[Any]:
    """A tally's column for ``split``, labelled as the rows' queries label it."""
    if split == "action":
        return func.coalesce(table.action, NO_VALUE)
    if split == "prompt_version":
        return func.coalesce(table.prompt_version, NO_VALUE)
    if split == "reviewer":
        return func.coalesce(table.reviewer, UNDECIDED)
    return literal("*")


def _with_confidence_columns(rows: Rows, split: Split) -> Rows:
    """Case rows of a split that does not group by confidence and stop topic (only the
    calibration, split by action, reads them) given empty ones, so every row has one shape."""
    if split in (None, "action"):
        return rows
    return [(*row[:4], None, 0, *row[4:]) for row in rows]


async def _tallied_cases(
    db: AsyncSession, workflow: str, days: tallies.Days, *, split: Split
) -> Rows:
    table: Any = TallyReviewerCases if split == "reviewer" else TallyCases
    keys = [_split_of(table, split), table.kind, table.status, table.shadow]
    if split in (None, "action"):
        keys += [table.centile, table.stop_topic]
    rows = await tallies.read_tally(
        db, table, workflow=workflow, days=days, keys=keys, sums=("n", "fast")
    )
    return _with_confidence_columns(rows, split)


async def _count_case_rows(
    db: AsyncSession, window: Window, *, split: Split, speed: ReadingSpeed
) -> Rows:
    """The handoffs themselves grouped as :func:`count_cases` needs, in one scan."""
    dialect = db.get_bind().dialect.name
    key = _handoff_split(split).label("split")
    fast = func.sum(case((_fast_approval(speed, dialect), 1), else_=0))
    columns = [key, Handoff.kind, Handoff.status, Handoff.shadow]
    if split in (None, "action"):
        has_stop = case((Handoff.stop_topic.is_(None), 0), else_=1)
        columns += [_centile(dialect).label("centile"), has_stop.label("has_stop")]
    query = _with_split(select(*columns, func.count(), fast), split).where(_handoffs_in(window))
    rows = [tuple(row) for row in await db.execute(query.group_by(*columns))]
    return _with_confidence_columns(rows, split)


async def count_rejections(
    db: AsyncSession, window: Window, *, split: Split
) -> list[tuple[str, str | None, int]]:
    """Rejections of the window by split and category: ``(split, category, count)``."""
    key = _handoff_split(split)
    query = (
        _with_split(select(key, Decision.category, func.count()), split, decisions=True)
        .where(_handoffs_in(window), Handoff.status == "rejected")
        .group_by(key, Decision.category)
    )
    return [(str(s), category, int(n)) for s, category, n in await db.execute(query)]


async def count_gate_verdicts(
    db: AsyncSession, window: Window, *, split: Split
) -> list[tuple[str, str, int]]:
    """Gate questions of the window by split and verdict: ``(split, verdict, count)``.

    Questions have no reviewer, so a reviewer split counts them all under ``*``.
    """
    t = TallyGateVerdicts
    key = _split_of(t, None if split == "reviewer" else split)
    rows = await _tallies_then_rows(
        window,
        from_tallies=lambda days: tallies.read_tally(
            db, t, workflow=window.workflow, days=days, keys=[key, t.verdict]
        ),
        from_rows=lambda edge: _count_gate_rows(db, edge, split=split),
        values=1,
    )
    return [(str(s), str(verdict), int(n)) for s, verdict, n in rows]


async def _count_gate_rows(db: AsyncSession, window: Window, *, split: Split) -> Rows:
    """The gate questions themselves grouped by split and verdict. The ``type = 'gate'``
    is written out, not bound, so the planner can use the partial index."""
    if split == "action":
        key: Any = Event.name
    elif split == "prompt_version":
        key = func.coalesce(Run.prompt_version, NO_VALUE)
    else:
        key = literal("*")
    query = select(key.label("split"), Event.status, func.count()).select_from(Event)
    if split == "prompt_version":
        query = query.join(Run, Run.id == Event.run_id)
    query = query.where(
        Event.workflow == window.workflow,
        Event.recorded_at >= window.start,
        Event.recorded_at < window.end,
        text("events.type = 'gate'"),
    ).group_by(key, Event.status)
    return [tuple(row) for row in await db.execute(query)]


def _bucket(ms: ColumnElement[Any]) -> ColumnElement[Any]:
    """A duration rounded down to 100 ms below 10 s, to the second below 10 min, else to the
    minute: a few hundred buckets hold any number of decisions, exact enough to read."""
    return case(
        (ms < 10_000, ms // 100 * 100),
        (ms < 600_000, ms // 1000 * 1000),
        else_=ms // 60_000 * 60_000,
    )


async def review_histogram(
    db: AsyncSession, window: Window, *, split: Split
) -> list[tuple[str, str, int, int]]:
    """Decided cases by split and duration bucket: ``(split, what, bucket_ms, count)``.

    ``what`` is ``review`` (opening to decision) or ``first_look`` (to the first Edit or
    Reject modal opened, else the decision). Percentiles are read off the cumulative counts,
    so nothing is sorted case by case and memory does not grow with the cases. Both measures
    come from one scan grouped by the pair of buckets (which mostly coincide: a first look
    is the decision unless a modal was opened), summed apart here.
    """
    table: Any = TallyReviewerTimes if split == "reviewer" else TallyReviewTimes
    keys = [_split_of(table, split), table.review_ms, table.first_look_ms]
    rows = await _tallies_then_rows(
        window,
        from_tallies=lambda days: tallies.read_tally(
            db, table, workflow=window.workflow, days=days, keys=keys
        ),
        from_rows=lambda edge: _review_time_rows(db, edge, split=split),
        values=1,
    )
    counts: dict[tuple[str, str, int], int] = {}
    for value, review_ms, look_ms, n in rows:
        for what, bucket in (("review", review_ms), ("first_look", look_ms)):
            slot = (str(value), what, int(bucket))
            counts[slot] = counts.get(slot, 0) + int(n)
    return [(s, what, bucket, n) for (s, what, bucket), n in counts.items()]


async def _review_time_rows(db: AsyncSession, window: Window, *, split: Split) -> Rows:
    """Decided handoffs themselves by split and the pair of duration buckets."""
    key = _handoff_split(split)
    elapsed = _elapsed_ms(db.get_bind().dialect.name)
    look = func.coalesce(Handoff.first_look_ms, elapsed)
    # Grouped by the labels, so PostgreSQL matches the buckets to their bound parameters.
    split_value = key.label("split")
    review, first = _bucket(elapsed).label("review"), _bucket(look).label("first_look")
    query = (
        _with_split(select(split_value, review, first, func.count()), split)
        .where(_handoffs_in(window), Handoff.status.in_(DECIDED), Handoff.decided_at.is_not(None))
        .group_by(split_value, review, first)
    )
    return [tuple(row) for row in await db.execute(query)]


async def count_reviewer_outcomes(
    db: AsyncSession, window: Window, *, speed: ReadingSpeed
) -> list[tuple[str, str, str, int, int]]:
    """Decisions by reviewer, action and outcome: ``(reviewer, action, outcome, n, fast)``."""
    t = TallyReviewerCases
    rows = await _tallies_then_rows(
        window,
        from_tallies=lambda days: tallies.read_tally(
            db,
            t,
            workflow=window.workflow,
            days=days,
            keys=[t.reviewer, func.coalesce(t.action, NO_VALUE), t.outcome],
            sums=("n", "fast"),
            where=[t.reviewer.is_not(None), t.status.in_(DECIDED)],
        ),
        from_rows=lambda edge: _reviewer_outcome_rows(db, edge, speed=speed),
        values=2,
        tallied=speed == TALLY_SPEED,
    )
    return [
        (str(who), str(act), str(outcome), int(n), int(quick or 0))
        for who, act, outcome, n, quick in rows
    ]


async def _reviewer_outcome_rows(db: AsyncSession, window: Window, *, speed: ReadingSpeed) -> Rows:
    """The decisions themselves by reviewer, action and outcome."""
    action = func.coalesce(Handoff.action, NO_VALUE)
    fast = func.sum(case((_fast_approval(speed, db.get_bind().dialect.name), 1), else_=0))
    query = (
        select(Decision.reviewer, action, Decision.outcome, func.count(), fast)
        .select_from(Handoff)
        .join(Decision, Decision.handoff_id == Handoff.id)
        .where(_handoffs_in(window), Handoff.status.in_(DECIDED))
        .group_by(Decision.reviewer, action, Decision.outcome)
    )
    return [tuple(row) for row in await db.execute(query)]


async def list_edit_diffs(db: AsyncSession, window: Window, *, limit: int) -> Sequence[str]:
    """The newest ``limit`` edit diffs of the window: enough to find what repeats."""
    query = (
        select(Decision.diff)
        .join(Handoff, Handoff.id == Decision.handoff_id)
        .where(_handoffs_in(window), Handoff.status == "edited", Decision.diff.is_not(None))
        .order_by(Decision.decided_at.desc())
        .limit(limit)
    )
    return [diff for diff in (await db.scalars(query)).all() if diff]


async def prompt_versions_seen(
    db: AsyncSession, *, workflow: str
) -> Sequence[tuple[str | None, datetime, int]]:
    """Every prompt version the workflow's runs named, with its first use and run count."""
    query = (
        select(Run.prompt_version, func.min(Run.started_at), func.count())
        .where(Run.workflow == workflow)
        .group_by(Run.prompt_version)
        .order_by(func.min(Run.started_at))
    )
    return [(version, first, int(n)) for version, first, n in await db.execute(query)]


async def set_first_look(db: AsyncSession, *, handoff_id: str, now: datetime) -> bool:
    """Keep how long after opening a pending handoff was first opened; only the first counts.

    ``WHERE first_look_ms IS NULL`` lets the database decide which of two reviewers looked
    first; False when someone already had, or the handoff is gone or decided.
    """
    created = await db.scalar(select(Handoff.created_at).where(Handoff.id == handoff_id))
    if created is None:
        return False
    result = await db.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            Handoff.status == "pending",
            Handoff.first_look_ms.is_(None),
        )
        .values(first_look_ms=max(int((now - created).total_seconds() * 1000), 0))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def count_outcomes_by_day(db: AsyncSession, window: Window) -> list[tuple[str, str, int]]:
    """Handoffs of the window by the UTC day they opened and their status now:
    ``(YYYY-MM-DD, status, count)``, at most days x statuses rows."""
    t = TallyCases
    rows = await _tallies_then_rows(
        window,
        from_tallies=lambda days: tallies.read_tally(
            db, t, workflow=window.workflow, days=days, keys=[t.day, t.status]
        ),
        from_rows=lambda edge: _outcome_day_rows(db, edge),
        values=1,
    )
    return [(str(when), str(status), int(n)) for when, status, n in rows]


async def _outcome_day_rows(db: AsyncSession, window: Window) -> Rows:
    if db.get_bind().dialect.name == "postgresql":
        day: Any = cast(func.timezone("UTC", Handoff.created_at), Date)
    else:
        day = func.date(Handoff.created_at)
    query = (
        select(day.label("day"), Handoff.status, func.count())
        .where(_handoffs_in(window))
        .group_by(day, Handoff.status)
    )
    return [(str(when), str(status), int(n)) for when, status, n in await db.execute(query)]
