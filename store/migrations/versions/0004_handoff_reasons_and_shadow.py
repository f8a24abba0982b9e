"""handoff reasons and shadow cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000

A handoff opened by the gate keeps every reason the policy gave, so its message shows
them all instead of guessing them again from the kind. ``shadow`` marks a case posted
only for comparison (the workflow runs in shadow mode): its message and its decision say
so, and nobody reads a shadow approval as permission. Older handoffs have no reasons
(their message keeps deriving them) and are not shadow cases.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch rebuild: on SQLite a rebuild drops and recreates
    # handoffs, and with foreign keys on that drop cascades to every decision. A literal
    # default ('0', which PostgreSQL reads as false) keeps the ADD COLUMN a plain one.
    op.add_column(
        "handoffs",
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("handoffs", sa.Column("shadow", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.drop_column("handoffs", "shadow")
    op.drop_column("handoffs", "reasons")
