"""prompt notes, the first look at a handoff, and indexes for the review metrics

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00.000000

A prompt version gets one change note (why it was made, by whom), so the review metrics
can say what each version did and list the versions nobody explained. A handoff keeps how
long after it was opened a reviewer first opened it (the Edit or Reject modal): the time
to first look, which the decision alone cannot tell for an Approve after a long read.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompt_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow"], ["workflows.name"], name=op.f("fk_prompt_notes_workflow_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_notes")),
        sa.UniqueConstraint("workflow", "version", name=op.f("uq_prompt_notes_workflow_version")),
    )
    # Plain ADD COLUMN, never a batch rebuild: on SQLite a rebuild of handoffs would
    # cascade to every decision (see 0004).
    op.add_column("handoffs", sa.Column("first_look_ms", sa.Integer(), nullable=True))
    # The review metrics read every gate question of a window: a partial index that covers
    # them (and only them) answers without touching the events table. ``type`` is in it
    # too, or SQLite does not see that the index covers the query's ``type = 'gate'``.
    # Runs by version, for the versions first seen, likewise.
    op.create_index(
        "ix_events_gate_questions",
        "events",
        ["workflow", "recorded_at", "name", "status", "run_id", "type"],
        postgresql_where=sa.text("type = 'gate'"),
        sqlite_where=sa.text("type = 'gate'"),
    )
    op.create_index(
        "ix_runs_workflow_prompt_version_started_at",
        "runs",
        ["workflow", "prompt_version", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_runs_workflow_prompt_version_started_at", table_name="runs")
    op.drop_index("ix_events_gate_questions", table_name="events")
    op.drop_column("handoffs", "first_look_ms")
    op.drop_table("prompt_notes")
