"""When the store is busy rather than broken, so callers answer "later" instead of "error".

Under a burst, or on a machine short of CPU, a request can wait longer than the pool's
timeout for a connection, or longer than SQLite's busy timeout for the write lock; a
PostgreSQL server can also run out of connection slots. None of these is a bug and none
loses anything: the same request succeeds a moment later. So the API answers 503 with
``Retry-After`` (which the client retries), a Slack user is told to try again in a moment,
and the outbox tries the row again — each with one warning line, never an ERROR with a
traceback that would page someone for a load spike.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

#: What a caller tells a client to wait before retrying, in seconds.
RETRY_AFTER_SECONDS = 1

_BUSY_DRIVER_TEXTS = (
    "database is locked",  # SQLite: the write lock was held past the busy timeout
    "too many clients already",  # PostgreSQL: max_connections reached
    "remaining connection slots are reserved",  # PostgreSQL: only superuser slots left
)


def is_store_busy(error: BaseException) -> bool:
    """Whether ``error`` means "no connection or lock free in time", not a failed statement."""
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection was in use
        return True
    if isinstance(error, sa_exc.DBAPIError | OSError):
        text = str(getattr(error, "orig", None) or error)
        return any(busy in text for busy in _BUSY_DRIVER_TEXTS)
    return any(busy in str(error) for busy in _BUSY_DRIVER_TEXTS[1:])


def busy_message(error: BaseException) -> str:
    """One line on what was busy, without the driver's full text."""
    if isinstance(error, sa_exc.TimeoutError):
        return "every database connection stayed in use past the pool's timeout"
    if "database is locked" in str(getattr(error, "orig", None) or error):
        return "SQLite's write lock stayed taken past its busy timeout"
    return "the database server has no connection slot free"
