"""stats tallies: per-day counts of handoffs, review times and gate verdicts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00.000000

``handrail stats`` grouped every handoff, gate question and decision of its window on each
call: over a million questions that was seconds of sorting. These four tables hold the
same counts per UTC day, kept by triggers as signed deltas (``+1`` for what a row is now,
``-1`` for what it was), so a change never locks a shared counter row and two writers never
wait on each other. The stats read whole days here and only the window's two partial days
from the rows themselves; ``store.repositories.tallies`` folds deltas into one row per key.

A handoff counts under what it is, the prompt version its run named and who decided it
(nobody, until a decision exists); a gate question under its action, verdict and version.
So the triggers on ``handoffs`` look up the decision and the run, those on ``decisions``
move their handoff from "nobody" to the reviewer (and back when deleted), and those on
``runs`` move a run's handoffs and questions should its prompt version ever change.

The expressions (day, hundredth of confidence, review-time bucket, approval faster than
reading at 40 ms a character with a 3 s floor) are the ones ``store.repositories.stats``
groups raw rows by; ``tests/test_stats_tallies.py`` checks both give the same figures.
Changing one of them needs a migration that recreates these triggers and the counts.

Deletes: a run's BEFORE DELETE trigger deletes its steps and handoffs first, and a
handoff's deletes its decision first, so every trigger still finds the rows it counts
against, whichever order a purge, an erasure or a cascade removes them in.
"""

# ruff: noqa: S608 - every statement is built from this file's fixed names, never from input
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED = "('approved', 'edited', 'rejected', 'taken_over', 'retry_requested')"
READING_MS_PER_CHAR = 40
READING_FLOOR_MS = 3000

CASES = "workflow, day, action, prompt_version, kind, status, shadow, centile, stop_topic, n, fast"
REVIEW_TIMES = "workflow, day, action, prompt_version, review_ms, first_look_ms, n"
REVIEWER_CASES = "workflow, day, reviewer, action, outcome, kind, status, shadow, n, fast"
REVIEWER_TIMES = "workflow, day, reviewer, review_ms, first_look_ms, n"
GATE_VERDICTS = "workflow, day, action, prompt_version, verdict, n"

HANDOFF_COLUMNS = (
    "run_id", "workflow", "created_at", "action", "kind", "status", "shadow", "confidence",
    "stop_topic", "draft", "decided_at", "first_look_ms",
)  # fmt: skip
EVENT_COLUMNS = ("run_id", "workflow", "recorded_at", "name", "status", "type")
DECISION_COLUMNS = ("handoff_id", "reviewer", "outcome")

#: The decision of handoff ``NEW``/``OLD``, or a row of NULLs: ``d.reviewer``, ``d.outcome``.
DECISION_OF = "(SELECT 1 AS one) one LEFT JOIN decisions d ON d.handoff_id = {h}.id"


def _insert(table: str, columns: str, values: list[str], source: str | None, *where: str) -> str:
    """``INSERT INTO table SELECT values [FROM source] [WHERE ...]``."""
    statement = f"INSERT INTO {table} ({columns}) SELECT {', '.join(values)}"
    if source:
        statement += f" FROM {source}"
    if where:
        statement += " WHERE " + " AND ".join(f"({condition})" for condition in where)
    return statement


class Sql:
    """The grouping expressions in one dialect, over a row alias (``NEW``, ``OLD``, ``h``)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def day(self, moment: str) -> str:
        if self.pg:
            return f"to_char({moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        return f"substr({moment}, 1, 10)"

    def elapsed_ms(self, row: str) -> str:
        start, end = f"{row}.created_at", f"{row}.decided_at"
        if self.pg:
            return f"CAST(round(EXTRACT(epoch FROM {end} - {start}) * 1000) AS BIGINT)"
        return f"CAST(round((julianday({end}) - julianday({start})) * 86400 * 1000) AS INTEGER)"

    @staticmethod
    def bucket(ms: str) -> str:
        return (
            f"CASE WHEN ({ms}) < 10000 THEN ({ms}) / 100 * 100 "
            f"WHEN ({ms}) < 600000 THEN ({ms}) / 1000 * 1000 "
            f"ELSE ({ms}) / 60000 * 60000 END"
        )

    def review_buckets(self, row: str) -> list[str]:
        elapsed = self.elapsed_ms(row)
        return [self.bucket(elapsed), self.bucket(f"coalesce({row}.first_look_ms, {elapsed})")]

    @staticmethod
    def decided(row: str) -> str:
        return f"{row}.status IN {DECIDED} AND {row}.decided_at IS NOT NULL"

    def centile(self, row: str) -> str:
        nudge = "CAST(1e-09 AS DOUBLE PRECISION)" if self.pg else "1e-09"
        scaled = f"{row}.confidence * 100 + {nudge}"
        whole = f"CAST(floor({scaled}) AS INTEGER)" if self.pg else f"CAST({scaled} AS INTEGER)"
        return f"CASE WHEN {whole} > 99 THEN 99 ELSE {whole} END"

    def fast(self, row: str) -> str:
        reading = f"coalesce(length({row}.draft), 0) * {READING_MS_PER_CHAR}"
        needed = (
            f"CASE WHEN {reading} > {READING_FLOOR_MS} THEN {reading} ELSE {READING_FLOOR_MS} END"
        )
        elapsed = self.elapsed_ms(row)
        return f"CASE WHEN {row}.status = 'approved' AND {elapsed} < {needed} THEN 1 ELSE 0 END"

    @staticmethod
    def version_of(run_id: str) -> str:
        return f"(SELECT r.prompt_version FROM runs r WHERE r.id = {run_id})"

    # -- signed deltas --------------------------------------------------------------------

    def handoff_by_version(
        self, h: str, sign: int, *, version: str | None = None, source: str | None = None,
        where: tuple[str, ...] = (),
    ) -> list[str]:  # fmt: skip
        """Handoff ``h`` under what it is and its run's prompt version (or ``version``)."""
        version = version or self.version_of(f"{h}.run_id")
        day = self.day(f"{h}.created_at")
        return [
            _insert(
                "tally_cases", CASES,
                [f"{h}.workflow", day, f"{h}.action", version, f"{h}.kind", f"{h}.status",
                 f"{h}.shadow", self.centile(h), f"{h}.stop_topic IS NOT NULL", str(sign),
                 f"{sign} * {self.fast(h)}"],
                source, *where,
            ),
            _insert(
                "tally_review_times", REVIEW_TIMES,
                [f"{h}.workflow", day, f"{h}.action", version, *self.review_buckets(h), str(sign)],
                source, *where, self.decided(h),
            ),
        ]  # fmt: skip

    def handoff_by_reviewer(
        self, h: str, sign: int, *, reviewer: str = "d.reviewer", outcome: str = "d.outcome",
        source: str | None = None, where: tuple[str, ...] = (),
    ) -> list[str]:  # fmt: skip
        """Handoff ``h`` under who decided it: its decision by default, else the given one."""
        source = source or DECISION_OF.format(h=h)
        day = self.day(f"{h}.created_at")
        return [
            _insert(
                "tally_reviewer_cases", REVIEWER_CASES,
                [f"{h}.workflow", day, reviewer, f"{h}.action", outcome, f"{h}.kind",
                 f"{h}.status", f"{h}.shadow", str(sign), f"{sign} * {self.fast(h)}"],
                source, *where,
            ),
            _insert(
                "tally_reviewer_times", REVIEWER_TIMES,
                [f"{h}.workflow", day, reviewer, *self.review_buckets(h), str(sign)],
                source, *where, self.decided(h),
            ),
        ]  # fmt: skip

    def handoff(self, h: str, sign: int) -> list[str]:
        return self.handoff_by_version(h, sign) + self.handoff_by_reviewer(h, sign)

    def decision(self, d: str, sign: int) -> list[str]:
        """Decision ``d`` taking its handoff from nobody (``sign`` 1), or giving it back."""
        of_handoff = ("h.id = " + f"{d}.handoff_id",)
        return self.handoff_by_reviewer(
            "h", -sign, reviewer="NULL", outcome="NULL", source="handoffs h", where=of_handoff
        ) + self.handoff_by_reviewer(
            "h", sign, reviewer=f"{d}.reviewer", outcome=f"{d}.outcome", source="handoffs h",
            where=of_handoff,
        )  # fmt: skip

    def gate(self, e: str, sign: int, *, version: str | None = None,
             source: str | None = None, where: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
        version = version or self.version_of(f"{e}.run_id")
        return [
            _insert(
                "tally_gate_verdicts", GATE_VERDICTS,
                [f"{e}.workflow", self.day(f"{e}.recorded_at"), f"{e}.name", version,
                 f"{e}.status", str(sign)],
                source, *where, f"{e}.type = 'gate'",
            )
        ]  # fmt: skip

    def run_version(self, version: str, sign: int) -> list[str]:
        """A run's handoffs and questions under ``version`` (``OLD``/``NEW.prompt_version``)."""
        return self.handoff_by_version(
            "h", sign, version=version, source="handoffs h", where=("h.run_id = NEW.id",)
        ) + self.gate("e", sign, version=version, source="events e", where=("e.run_id = NEW.id",))

    def changed(self, columns: Sequence[str]) -> str:
        differ = "IS DISTINCT FROM" if self.pg else "IS NOT"
        return " OR ".join(f"OLD.{column} {differ} NEW.{column}" for column in columns)


Trigger = tuple[str, str, str | None, list[str]]


def _triggers(sql: Sql) -> dict[str, Trigger]:
    """Each trigger: (timing and event, table, WHEN condition, statements)."""
    return {
        "tally_run_version_changed": (
            "AFTER UPDATE", "runs", sql.changed(("prompt_version",)),
            sql.run_version("OLD.prompt_version", -1) + sql.run_version("NEW.prompt_version", 1),
        ),
        "tally_run_deleting": (
            "BEFORE DELETE", "runs", None,
            ["DELETE FROM events WHERE run_id = OLD.id",
             "DELETE FROM handoffs WHERE run_id = OLD.id"],
        ),
        "tally_handoff_inserted": ("AFTER INSERT", "handoffs", None, sql.handoff("NEW", 1)),
        "tally_handoff_changed": (
            "AFTER UPDATE", "handoffs", sql.changed(HANDOFF_COLUMNS),
            sql.handoff("OLD", -1) + sql.handoff("NEW", 1),
        ),
        "tally_handoff_deleting": (
            "BEFORE DELETE", "handoffs", None,
            ["DELETE FROM decisions WHERE handoff_id = OLD.id"],
        ),
        "tally_handoff_deleted": ("AFTER DELETE", "handoffs", None, sql.handoff("OLD", -1)),
        "tally_decision_inserted": ("AFTER INSERT", "decisions", None, sql.decision("NEW", 1)),
        "tally_decision_changed": (
            "AFTER UPDATE", "decisions", sql.changed(DECISION_COLUMNS),
            sql.decision("OLD", -1) + sql.decision("NEW", 1),
        ),
        "tally_decision_deleted": ("AFTER DELETE", "decisions", None, sql.decision("OLD", -1)),
        "tally_gate_inserted": (
            "AFTER INSERT", "events", "NEW.type = 'gate'", sql.gate("NEW", 1),
        ),
        "tally_gate_changed": (
            "AFTER UPDATE", "events",
            f"(OLD.type = 'gate' OR NEW.type = 'gate') AND ({sql.changed(EVENT_COLUMNS)})",
            sql.gate("OLD", -1) + sql.gate("NEW", 1),
        ),
        "tally_gate_deleted": (
            "AFTER DELETE", "events", "OLD.type = 'gate'", sql.gate("OLD", -1),
        ),
    }  # fmt: skip


def _backfill(sql: Sql) -> list[str]:
    """Today's rows counted into the tallies, one grouped statement per tally."""
    day = sql.day("h.created_at")
    buckets = sql.review_buckets("h")
    handoffs = "handoffs h LEFT JOIN runs r ON r.id = h.run_id"
    with_decisions = "handoffs h LEFT JOIN decisions d ON d.handoff_id = h.id"
    return [
        f"INSERT INTO tally_cases ({CASES}) SELECT h.workflow, {day}, h.action, "
        f"r.prompt_version, h.kind, h.status, h.shadow, {sql.centile('h')}, "
        f"h.stop_topic IS NOT NULL, count(*), sum({sql.fast('h')}) FROM {handoffs} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
        f"INSERT INTO tally_review_times ({REVIEW_TIMES}) SELECT h.workflow, {day}, h.action, "
        f"r.prompt_version, {buckets[0]}, {buckets[1]}, count(*) FROM {handoffs} "
        f"WHERE {sql.decided('h')} GROUP BY 1, 2, 3, 4, 5, 6",
        f"INSERT INTO tally_reviewer_cases ({REVIEWER_CASES}) SELECT h.workflow, {day}, "
        "d.reviewer, h.action, d.outcome, h.kind, h.status, h.shadow, count(*), "
        f"sum({sql.fast('h')}) FROM {with_decisions} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        f"INSERT INTO tally_reviewer_times ({REVIEWER_TIMES}) SELECT h.workflow, {day}, "
        f"d.reviewer, {buckets[0]}, {buckets[1]}, count(*) FROM {with_decisions} "
        f"WHERE {sql.decided('h')} GROUP BY 1, 2, 3, 4, 5",
        f"INSERT INTO tally_gate_verdicts ({GATE_VERDICTS}) SELECT e.workflow, "
        f"{sql.day('e.recorded_at')}, e.name, r.prompt_version, e.status, count(*) "
        "FROM events e LEFT JOIN runs r ON r.id = e.run_id WHERE e.type = 'gate' "
        "GROUP BY 1, 2, 3, 4, 5",
    ]


TABLES = (
    "tally_cases", "tally_review_times", "tally_reviewer_cases", "tally_reviewer_times",
    "tally_gate_verdicts",
)  # fmt: skip


def _create_tables() -> None:
    key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

    def table(name: str, *columns: sa.Column[object]) -> None:
        op.create_table(
            name,
            sa.Column("id", key, nullable=False),
            sa.Column("workflow", sa.String(length=64), nullable=False),
            sa.Column("day", sa.String(length=10), nullable=False),
            *columns,
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        )
        op.create_index(f"ix_{name}_workflow_day", name, ["workflow", "day"])

    def action() -> sa.Column[object]:
        return sa.Column("action", sa.String(length=200), nullable=True)

    def version() -> sa.Column[object]:
        return sa.Column("prompt_version", sa.String(length=200), nullable=True)

    def reviewer() -> sa.Column[object]:
        return sa.Column("reviewer", sa.String(length=64), nullable=True)

    def handoff() -> list[sa.Column[object]]:
        return [
            sa.Column("kind", sa.String(length=32), nullable=False),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("shadow", sa.Boolean(), nullable=False),
        ]

    def times() -> list[sa.Column[object]]:
        return [
            sa.Column("review_ms", sa.BigInteger(), nullable=False),
            sa.Column("first_look_ms", sa.BigInteger(), nullable=False),
        ]

    def fast() -> sa.Column[object]:
        return sa.Column("fast", sa.Integer(), nullable=False)

    table(
        "tally_cases", action(), version(), *handoff(),
        sa.Column("centile", sa.Integer(), nullable=True),
        sa.Column("stop_topic", sa.Boolean(), nullable=False), fast(),
    )  # fmt: skip
    table("tally_review_times", action(), version(), *times())
    table(
        "tally_reviewer_cases", reviewer(), action(),
        sa.Column("outcome", sa.String(length=32), nullable=True), *handoff(), fast(),
    )  # fmt: skip
    table("tally_reviewer_times", reviewer(), *times())
    table(
        "tally_gate_verdicts",
        sa.Column("action", sa.String(length=200), nullable=False), version(),
        sa.Column("verdict", sa.String(length=32), nullable=True),
    )  # fmt: skip


def upgrade() -> None:
    sql = Sql(op.get_bind().dialect.name)
    if sql.pg:  # nothing may write between the backfill and the triggers taking over
        op.execute("LOCK TABLE runs, handoffs, decisions, events IN SHARE ROW EXCLUSIVE MODE")
    _create_tables()
    for statement in _backfill(sql):
        op.execute(statement)
    for name, (timing, table, when, statements) in _triggers(sql).items():
        body = ";\n  ".join(statements)
        if sql.pg:
            result = "OLD" if timing.startswith("BEFORE") else "NULL"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                f"SET search_path FROM CURRENT AS $$\nBEGIN\n  {body};\n  RETURN {result};\nEND\n$$"
            )
            condition = f" WHEN ({when})" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW{condition} "
                f"EXECUTE FUNCTION {name}()"
            )
        else:
            condition = f" WHEN {when}" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW{condition}\n"
                f"BEGIN\n  {body};\nEND"
            )


def downgrade() -> None:
    sql = Sql(op.get_bind().dialect.name)
    for name, (_, table, _, _) in _triggers(sql).items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if sql.pg else ""))
        if sql.pg:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for name in TABLES:
        op.drop_table(name)
