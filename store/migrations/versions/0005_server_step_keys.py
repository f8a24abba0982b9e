"""server step keys apart from client event IDs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 06:00:00.000000

The steps Handrail records for its own requests (a gate verdict, a handoff, a parked job)
were keyed in ``events.client_id`` as ``gate:<request_id>``, ``handoff:…`` and ``park:…``,
the column an automation's own event IDs live in, so an event sent with the ID ``gate:q2``
could answer gate request ``q2``. Those keys move to ``server_key``, which only the server
writes. Only rows of the server's own step types move: an automation's event can never have
type ``gate``, ``handoff`` or ``park`` (the API refuses them), so an event a client sent with
such an ID keeps it as its client ID, and answers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERVER_STEPS = (
    "(type = 'gate' AND client_id LIKE 'gate:%')"
    " OR (type = 'handoff' AND client_id LIKE 'handoff:%')"
    " OR (type = 'park' AND client_id LIKE 'park:%')"
)


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch rebuild of events (see 0004).
    op.add_column("events", sa.Column("server_key", sa.String(length=128), nullable=True))
    op.execute(
        f"UPDATE events SET server_key = client_id, client_id = NULL WHERE {_SERVER_STEPS}"  # noqa: S608
    )
    op.create_index("uq_events_run_id_server_key", "events", ["run_id", "server_key"], unique=True)


def downgrade() -> None:
    # A key goes back unless an automation's event on the run has since taken that ID.
    op.execute(
        "UPDATE events SET client_id = server_key WHERE server_key IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM events AS taken"
        " WHERE taken.run_id = events.run_id AND taken.client_id = events.server_key)"
    )
    op.drop_index("uq_events_run_id_server_key", table_name="events")
    op.drop_column("events", "server_key")
