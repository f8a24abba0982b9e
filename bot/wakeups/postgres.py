"""Wake-ups between every process and instance on one PostgreSQL: ``LISTEN/NOTIFY``.

One dedicated asyncpg connection per process listens on the schema's channel and sends
what this process publishes (``pg_notify``, batched, after the change has committed), so
publishing never waits on the network: it queues a payload and returns. When the connection
drops (PostgreSQL restarted, the backend terminated) the loop reconnects with a capped
backoff and, once back, wakes every local subscriber (``RESYNC``) to re-read whatever it
may have missed; meanwhile waiters re-read on their own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from bot.wakeups.hub import RESYNC, Deliver

log = logging.getLogger("handrail.wakeups")

MAX_PENDING = 10_000
"""Payloads queued while sending is slow; beyond it they are dropped (re-reads cover them)."""
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0


class PostgresTransport:
    def __init__(self, url: URL, *, schema: str | None) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = f"handrail_wake_{schema or 'public'}"[:63]
        self.application_name = f"handrail-wakeups {os.getpid()} {schema or 'public'}"[:63]
        """How an operator (or a test) finds this process's listener in pg_stat_activity."""
        self.connected = asyncio.Event()
        """Set while listening: only then is anything worth queuing to send."""
        self._pending: dict[str, None] = {}
        self._kick = asyncio.Event()
        self._lost = asyncio.Event()
        self._stopping = asyncio.Event()
        self._deliver: Deliver | None = None
        self._task: asyncio.Task[None] | None = None
        self.server_pid: int | None = None
        """The listening backend's process ID (tests terminate it to cut the connection)."""

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._task = asyncio.create_task(self._run(), name="wakeups-listener")

    def send(self, channel: str, key: str) -> None:
        if not self.connected.is_set() or len(self._pending) >= MAX_PENDING:
            return  # not listening: other processes find the change on their re-read
        self._pending[f"{channel}\n{key}"] = None
        self._kick.set()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._listen()
                failures = 0
            except Exception as exc:  # whatever broke it, this loop must outlive it
                failures += 1
                log.warning(
                    "wake-up listener lost (%s: %s); waiters re-read until it is back",
                    type(exc).__name__,
                    exc,
                )
            if self._stopping.is_set():
                return
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(failures, 10))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay * random.uniform(0.5, 1.0))  # noqa: S311

    async def _listen(self) -> None:
        """One connection's life: listen, send what is queued, return when it is lost."""
        connection: Any = await asyncpg.connect(
            self.dsn, timeout=5, server_settings={"application_name": self.application_name}
        )
        self._lost.clear()
        try:
            connection.add_termination_listener(lambda _connection: self._lost.set())
            await connection.add_listener(self.channel, self._on_notification)
            self.server_pid = connection.get_server_pid()
            self.connected.set()
            assert self._deliver is not None
            self._deliver(RESYNC, "")  # anything published while we were away: re-read it
            await self._send_until_lost(connection)
        finally:
            self.connected.clear()
            self._pending.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 1)
            if not connection.is_closed():
                connection.terminate()

    async def _send_until_lost(self, connection: Any) -> None:
        waits = [self._kick.wait, self._lost.wait, self._stopping.wait]
        while True:
            tasks = [asyncio.ensure_future(wait()) for wait in waits]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
            if self._stopping.is_set():
                return
            if self._lost.is_set() or connection.is_closed():
                raise ConnectionResetError("the listener's connection was closed")
            self._kick.clear()
            payloads, self._pending = list(self._pending), {}
            if payloads:
                await connection.execute(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                    self.channel,
                    payloads,
                )

    def _on_notification(self, _connection: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self.server_pid or self._deliver is None:
            return  # our own: this process woke its subscribers when it published
        channel, _, key = payload.partition("\n")
        self._deliver(channel, key)
