"""stats tallies: per-day counts of handoffs, review times, gate verdicts and decisions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00.000000

``handrail stats`` grouped every handoff, gate question and decision of its window on each
call: over a million questions that was seconds of sorting. These four tables hold the
same counts per UTC day, kept by triggers as signed deltas (``+1`` for what a row is now,
``-1`` for what it was), so a change never locks a shared counter row and two writers never
wait on each other. The stats read whole days here and only the window's two partial days
from the rows themselves; ``store.repositories.tallies`` folds deltas into one row per key.

The expressions (day, hundredth of confidence, review-time bucket, approval faster than
reading at 40 ms a character with a 3 s floor) are the ones ``store.repositories.stats``
groups raw rows by; ``tests/test_stats_tallies.py`` checks both give the same figures.
Changing one of them needs a migration that recreates these triggers and the counts.

Deletes: a handoff's BEFORE DELETE trigger deletes its decision first, so the decision's
own trigger always finds the handoff it counts against, whichever of the two a purge, an
erasure or a cascade removes first.
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

CASES = "workflow, day, action, kind, status, shadow, centile, stop_topic, n, fast"
REVIEW_TIMES = "workflow, day, action, review_ms, first_look_ms, n"
GATE_VERDICTS = "workflow, day, action, verdict, n"
REVIEWER_OUTCOMES = "workflow, day, reviewer, action, outcome, n, fast"

HANDOFF_COLUMNS = (
    "workflow", "created_at", "action", "kind", "status", "shadow", "confidence",
    "stop_topic", "draft", "decided_at", "first_look_ms",
)  # fmt: skip
EVENT_COLUMNS = ("workflow", "recorded_at", "name", "status", "type")
DECISION_COLUMNS = ("handoff_id", "reviewer", "outcome")


class Sql:
    """The grouping expressions in one dialect, over a row alias (``NEW``, ``OLD``, ``h``)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def day(self, moment: str) -> str:
        if self.pg:
            return f"to_char({moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        return f"substr({moment}, 1, 10)"

    def elapsed_ms(self, start: str, end: str) -> str:
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
        elapsed = self.elapsed_ms(f"{row}.created_at", f"{row}.decided_at")
        return f"CASE WHEN {row}.status = 'approved' AND {elapsed} < {needed} THEN 1 ELSE 0 END"

    # -- one signed delta per tally, for one row -------------------------------------------

    def cases(self, h: str, sign: int) -> str:
        return (
            f"INSERT INTO tally_cases ({CASES}) SELECT {h}.workflow, "
            f"{self.day(f'{h}.created_at')}, {h}.action, {h}.kind, {h}.status, {h}.shadow, "
            f"{self.centile(h)}, {h}.stop_topic IS NOT NULL, {sign}, {sign} * {self.fast(h)}"
        )

    def review_times(self, h: str, sign: int) -> str:
        elapsed = self.elapsed_ms(f"{h}.created_at", f"{h}.decided_at")
        return (
            f"INSERT INTO tally_review_times ({REVIEW_TIMES}) SELECT {h}.workflow, "
            f"{self.day(f'{h}.created_at')}, {h}.action, {self.bucket(elapsed)}, "
            f"{self.bucket(f'coalesce({h}.first_look_ms, {elapsed})')}, {sign} "
            f"WHERE {h}.status IN {DECIDED} AND {h}.decided_at IS NOT NULL"
        )

    def outcomes_of_handoff(self, h: str, sign: int) -> str:
        """The handoff's decision, if it has one, counted under the handoff's row ``h``."""
        return (
            f"INSERT INTO tally_reviewer_outcomes ({REVIEWER_OUTCOMES}) SELECT {h}.workflow, "
            f"{self.day(f'{h}.created_at')}, d.reviewer, {h}.action, d.outcome, {sign}, "
            f"{sign} * {self.fast(h)} FROM decisions d "
            f"WHERE d.handoff_id = {h}.id AND {h}.status IN {DECIDED}"
        )

    def outcomes_of_decision(self, d: str, sign: int) -> str:
        """The decision ``d`` counted under its handoff as the handoff is now."""
        return (
            f"INSERT INTO tally_reviewer_outcomes ({REVIEWER_OUTCOMES}) SELECT h.workflow, "
            f"{self.day('h.created_at')}, {d}.reviewer, h.action, {d}.outcome, {sign}, "
            f"{sign} * {self.fast('h')} FROM handoffs h "
            f"WHERE h.id = {d}.handoff_id AND h.status IN {DECIDED}"
        )

    def gate_verdicts(self, e: str, sign: int) -> str:
        return (
            f"INSERT INTO tally_gate_verdicts ({GATE_VERDICTS}) SELECT {e}.workflow, "
            f"{self.day(f'{e}.recorded_at')}, {e}.name, {e}.status, {sign} "
            f"WHERE {e}.type = 'gate'"
        )

    def changed(self, columns: Sequence[str]) -> str:
        differ = "IS DISTINCT FROM" if self.pg else "IS NOT"
        return " OR ".join(f"OLD.{column} {differ} NEW.{column}" for column in columns)


def _triggers(sql: Sql) -> dict[str, tuple[str, str, str | None, list[str]]]:
    """Each trigger: (timing and event, table, WHEN condition, statements)."""
    return {
        "tally_handoff_inserted": (
            "AFTER INSERT",
            "handoffs",
            None,
            [sql.cases("NEW", 1), sql.review_times("NEW", 1)],
        ),
        "tally_handoff_changed": (
            "AFTER UPDATE",
            "handoffs",
            sql.changed(HANDOFF_COLUMNS),
            [
                sql.cases("OLD", -1),
                sql.review_times("OLD", -1),
                sql.outcomes_of_handoff("OLD", -1),
                sql.cases("NEW", 1),
                sql.review_times("NEW", 1),
                sql.outcomes_of_handoff("NEW", 1),
            ],
        ),
        "tally_handoff_deleting": (
            "BEFORE DELETE",
            "handoffs",
            None,
            ["DELETE FROM decisions WHERE handoff_id = OLD.id"],
        ),
        "tally_handoff_deleted": (
            "AFTER DELETE",
            "handoffs",
            None,
            [sql.cases("OLD", -1), sql.review_times("OLD", -1)],
        ),
        "tally_decision_inserted": (
            "AFTER INSERT",
            "decisions",
            None,
            [sql.outcomes_of_decision("NEW", 1)],
        ),
        "tally_decision_changed": (
            "AFTER UPDATE",
            "decisions",
            sql.changed(DECISION_COLUMNS),
            [sql.outcomes_of_decision("OLD", -1), sql.outcomes_of_decision("NEW", 1)],
        ),
        "tally_decision_deleted": (
            "AFTER DELETE",
            "decisions",
            None,
            [sql.outcomes_of_decision("OLD", -1)],
        ),
        "tally_gate_inserted": (
            "AFTER INSERT",
            "events",
            "NEW.type = 'gate'",
            [sql.gate_verdicts("NEW", 1)],
        ),
        "tally_gate_changed": (
            "AFTER UPDATE",
            "events",
            f"(OLD.type = 'gate' OR NEW.type = 'gate') AND ({sql.changed(EVENT_COLUMNS)})",
            [sql.gate_verdicts("OLD", -1), sql.gate_verdicts("NEW", 1)],
        ),
        "tally_gate_deleted": (
            "AFTER DELETE",
            "events",
            "OLD.type = 'gate'",
            [sql.gate_verdicts("OLD", -1)],
        ),
    }


def _backfill(sql: Sql) -> list[str]:
    """Today's rows counted into the tallies, one grouped statement per tally."""
    elapsed = sql.elapsed_ms("h.created_at", "h.decided_at")
    day = sql.day("h.created_at")
    return [
        f"INSERT INTO tally_cases ({CASES}) SELECT h.workflow, {day}, h.action, h.kind, "
        f"h.status, h.shadow, {sql.centile('h')}, h.stop_topic IS NOT NULL, count(*), "
        f"sum({sql.fast('h')}) FROM handoffs h GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        f"INSERT INTO tally_review_times ({REVIEW_TIMES}) SELECT h.workflow, {day}, h.action, "
        f"{sql.bucket(elapsed)}, {sql.bucket(f'coalesce(h.first_look_ms, {elapsed})')}, "
        f"count(*) FROM handoffs h WHERE h.status IN {DECIDED} AND h.decided_at IS NOT NULL "
        "GROUP BY 1, 2, 3, 4, 5",
        f"INSERT INTO tally_gate_verdicts ({GATE_VERDICTS}) SELECT e.workflow, "
        f"{sql.day('e.recorded_at')}, e.name, e.status, count(*) FROM events e "
        "WHERE e.type = 'gate' GROUP BY 1, 2, 3, 4",
        f"INSERT INTO tally_reviewer_outcomes ({REVIEWER_OUTCOMES}) SELECT h.workflow, {day}, "
        f"d.reviewer, h.action, d.outcome, count(*), sum({sql.fast('h')}) FROM decisions d "
        f"JOIN handoffs h ON h.id = d.handoff_id WHERE h.status IN {DECIDED} "
        "GROUP BY 1, 2, 3, 4, 5",
    ]


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

    table(
        "tally_cases",
        sa.Column("action", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("centile", sa.Integer(), nullable=True),
        sa.Column("stop_topic", sa.Boolean(), nullable=False),
        sa.Column("fast", sa.Integer(), nullable=False),
    )
    table(
        "tally_review_times",
        sa.Column("action", sa.String(length=200), nullable=True),
        sa.Column("review_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_look_ms", sa.BigInteger(), nullable=False),
    )
    table(
        "tally_gate_verdicts",
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=True),
    )
    table(
        "tally_reviewer_outcomes",
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("fast", sa.Integer(), nullable=False),
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    sql = Sql(dialect)
    if sql.pg:  # nothing may write between the backfill and the triggers taking over
        op.execute("LOCK TABLE handoffs, decisions, events IN SHARE ROW EXCLUSIVE MODE")
    _create_tables()
    for statement in _backfill(sql):
        op.execute(statement)
    for name, (timing, table, when, statements) in _triggers(sql).items():
        if sql.pg:
            result = "OLD" if timing.startswith("BEFORE") else "NULL"
            body = ";\n  ".join(statements)
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
            body = ";\n  ".join(statements)
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
    for name in ("tally_reviewer_outcomes", "tally_gate_verdicts", "tally_review_times"):
        op.drop_table(name)
    op.drop_table("tally_cases")
