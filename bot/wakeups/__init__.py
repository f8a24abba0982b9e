"""Wake-ups across processes: a decision or an outbox row written in one process wakes the
long-polls and the outbox worker of every other process sharing the database.

Everything here is a hint, never the record: a lost wake-up costs one re-read interval, not
a decision, because every waiter still re-reads the database on its own timer. ``Wakeups``
fans a published ``(channel, key)`` out to this process's subscribers at once and hands it
to a transport for the others: PostgreSQL ``LISTEN/NOTIFY`` (``postgres.py``) or, for a
SQLite file, Unix datagram sockets between the processes on this machine (``sockets.py``).
"""

from bot.wakeups.choose import choose_transport
from bot.wakeups.hub import HANDOFF, OUTBOX, RESYNC, Transport, Wakeups

__all__ = ["HANDOFF", "OUTBOX", "RESYNC", "Transport", "Wakeups", "choose_transport"]
