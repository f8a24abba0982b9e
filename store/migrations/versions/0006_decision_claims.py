"""decision claims

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:00:00.000000

A click that decides a handoff claims it before Slack is answered: who clicked, what they
chose and when. The decision itself is recorded just after, from the claim, so the order
of decisions is the order in which people were acknowledged, and a claim left by a crash
is still recorded when the server comes back. Older handoffs have no claim.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch rebuild (see 0004: a rebuild cascades to decisions).
    op.add_column("handoffs", sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.add_column("handoffs", sa.Column("claimed_outcome", sa.String(length=32), nullable=True))
    op.add_column("handoffs", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("handoffs", "claimed_at")
    op.drop_column("handoffs", "claimed_outcome")
    op.drop_column("handoffs", "claimed_by")
