"""the mode each workflow last ran in

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00.000000

``workflows.mode`` is the mode from the brief the server last started with, so a start
with another mode is noticed once and written to the audit log (``policy.promoted`` with
the backtest it was based on, or ``policy.demoted``). Empty for existing rows: the next
start fills it in without an entry, as there is nothing to compare with. Plain ADD COLUMN.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workflows", sa.Column("mode", sa.String(16), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of workflows trips every foreign key.
    op.drop_column("workflows", "mode")
