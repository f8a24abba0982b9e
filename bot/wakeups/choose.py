"""Which transport a database gets: the store decides, the settings may turn it off."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from bot.settings import Settings
from bot.wakeups.hub import Transport


def choose_transport(settings: Settings) -> Transport | None:
    """PostgreSQL: LISTEN/NOTIFY. A SQLite file: datagram sockets beside it. Otherwise (or
    with ``HANDRAIL_WAKEUPS=false``) none: waiters rely on their re-read alone."""
    if not settings.wakeups_enabled:
        return None
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        from bot.wakeups.postgres import PostgresTransport

        return PostgresTransport(url, schema=settings.database_schema)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        from bot.wakeups.sockets import SocketTransport

        return SocketTransport.for_database_file(url.database)
    return None
