"""quorum approvals: one vote row per reviewer and round, approvers on decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00.000000

``approval_votes`` holds each approval towards a quorum; its unique (handoff, round,
reviewer) index stops a person counting twice. Handoffs gain the round their approvals are
of (an edit starts the next), the edited text that round approves and where the quorum
stands for the message; decisions gain every approver. Plain ADD COLUMN, never a batch
rebuild of handoffs (see 0004); existing handoffs are in round 0 with no quorum.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import JsonDocument

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_votes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("handoff_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("groups", JsonDocument, nullable=False),
        sa.Column("approval_digest", sa.String(length=64), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_sequence", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_approval_votes_handoff_id_handoffs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_votes")),
    )
    op.create_index(
        "uq_approval_votes_handoff_round_reviewer",
        "approval_votes",
        ["handoff_id", "round", "reviewer"],
        unique=True,
    )
    op.add_column(
        "handoffs", sa.Column("quorum_round", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("handoffs", sa.Column("quorum_text", sa.Text(), nullable=True))
    op.add_column("handoffs", sa.Column("quorum", JsonDocument, nullable=True))
    op.add_column("decisions", sa.Column("approvers", JsonDocument, nullable=True))


def downgrade() -> None:
    op.drop_column("decisions", "approvers")
    op.drop_column("handoffs", "quorum")
    op.drop_column("handoffs", "quorum_text")
    op.drop_column("handoffs", "quorum_round")
    op.drop_index("uq_approval_votes_handoff_round_reviewer", table_name="approval_votes")
    op.drop_table("approval_votes")
