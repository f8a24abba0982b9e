"""alert snoozes and rejected token uses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:30:00.000000

Who snoozed an alert is shown on its message; a revoked or expired token presented to the
API is counted on its credential (cheap: one row per token, never one per attempt) so the
alert rules can find it by ``rejected_at``. ``ix_alerts_resolved_at`` keeps the lookup of
recent resolutions bounded by time, not by the number of alerts ever raised.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snoozed_by", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_alerts_resolved_at", ["resolved_at"], unique=False)

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("rejected_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_credentials_rejected_at"), ["rejected_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_rejected_at"))
        batch_op.drop_column("rejected_count")
        batch_op.drop_column("rejected_at")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_resolved_at")
        batch_op.drop_column("snoozed_by")
