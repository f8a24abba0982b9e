"""audit log hash chain, approval digests and acts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:00:00.000000

Every audit entry gets a gapless ``sequence``, the hash of the entry before it and its own
hash (``store.audit_chain``). Existing entries are chained in ID order; every existing
decision is then recorded as an entry of its own (at its decision time, marked
``"backfilled": true``) and linked to it, so ``handrail audit verify`` holds for an
upgraded store. Decisions gain ``approval_digest`` (none for older ones: they cannot be
acted on through the act endpoint), ``acted_at`` and ``audit_sequence``.

Plain ADD COLUMN for decisions, never a batch rebuild of handoffs (see 0004); audit_log
is rebuilt on SQLite to make its new columns NOT NULL, and nothing refers to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from store.audit_chain import DECIDED, GENESIS_HASH, decision_details, entry_hash
from store.types import JsonDocument, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("sequence", sa.BigInteger()),
    sa.column("at", UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("workflow", sa.String()),
    sa.column("details", JsonDocument),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_decisions = sa.table(
    "decisions",
    sa.column("id", sa.BigInteger()),
    sa.column("handoff_id", sa.String()),
    sa.column("run_id", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("reviewer", sa.String()),
    sa.column("final_text", sa.Text()),
    sa.column("reason", sa.Text()),
    sa.column("decided_at", UTCDateTime()),
    sa.column("audit_sequence", sa.BigInteger()),
)
_handoffs = sa.table("handoffs", sa.column("id", sa.String()), sa.column("workflow", sa.String()))


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("sequence", sa.BigInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    op.add_column("decisions", sa.Column("approval_digest", sa.String(length=64), nullable=True))
    op.add_column("decisions", sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("decisions", sa.Column("audit_sequence", sa.BigInteger(), nullable=True))
    _chain_existing(op.get_bind())
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("sequence", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("uq_audit_log_sequence", ["sequence"], unique=True)
    op.create_index("uq_decisions_audit_sequence", "decisions", ["audit_sequence"], unique=True)


def _chain_existing(bind: sa.Connection) -> None:
    """Chain the entries there are in ID order, then append one entry per older decision."""
    sequence, prev_hash = 0, GENESIS_HASH
    for row in bind.execute(sa.select(_audit).order_by(_audit.c.id)).all():
        sequence += 1
        prev_hash = _link(bind, row.id, sequence, prev_hash, row._mapping)
    query = (
        sa.select(_decisions, _handoffs.c.workflow)
        .join(_handoffs, _handoffs.c.id == _decisions.c.handoff_id)
        .order_by(_decisions.c.id)
    )
    for row in bind.execute(query).all():
        sequence += 1
        details = decision_details(
            handoff_id=row.handoff_id,
            run_id=row.run_id,
            reviewer=row.reviewer,
            outcome=row.outcome,
            final_text=row.final_text,
            reason=row.reason,
            approval_digest=None,
        )
        details["backfilled"] = True
        fields: dict[str, Any] = {
            "at": row.decided_at,
            "actor": row.reviewer,
            "action": DECIDED,
            "workflow": row.workflow,
            "details": details,
        }
        entry_id = bind.execute(
            sa.insert(_audit).values(**fields).returning(_audit.c.id)
        ).scalar_one()
        prev_hash = _link(bind, entry_id, sequence, prev_hash, fields)
        bind.execute(
            sa.update(_decisions).where(_decisions.c.id == row.id).values(audit_sequence=sequence)
        )


def _link(bind: sa.Connection, entry_id: int, sequence: int, prev_hash: str, row: Any) -> str:
    digest = entry_hash(
        sequence=sequence,
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        workflow=row["workflow"],
        details=row["details"],
        prev_hash=prev_hash,
    )
    bind.execute(
        sa.update(_audit)
        .where(_audit.c.id == entry_id)
        .values(sequence=sequence, prev_hash=prev_hash, hash=digest)
    )
    return digest


def downgrade() -> None:
    op.drop_index("uq_decisions_audit_sequence", table_name="decisions")
    op.drop_column("decisions", "audit_sequence")
    op.drop_column("decisions", "acted_at")
    op.drop_column("decisions", "approval_digest")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("uq_audit_log_sequence")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("sequence")
