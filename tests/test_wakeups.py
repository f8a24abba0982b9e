"""The wake-up transports between processes, each against the real thing: Unix datagram
sockets for a SQLite file, LISTEN/NOTIFY on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.services import Services
from bot.settings import Settings
from bot.wakeups import HANDOFF, OUTBOX, RESYNC, Transport, Wakeups
from bot.wakeups.postgres import PostgresTransport
from bot.wakeups.sockets import SocketTransport
from store.engine import create_engine, create_sessions
from tests.conftest import POSTGRES_URL
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


class Heard:
    """What one transport delivered, with a way to wait for something in it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self._changed = asyncio.Event()

    def __call__(self, channel: str, key: str) -> None:
        self.messages.append((channel, key))
        self._changed.set()

    async def until(self, check: Callable[[list[tuple[str, str]]], bool]) -> None:
        """Return once ``check`` holds, or fail after ten seconds."""

        async def watch() -> None:
            while not check(self.messages):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(watch(), 10)


async def started(transport: Transport) -> Heard:
    heard = Heard()
    await transport.start(heard)
    return heard


@pytest.fixture
async def sockets(tmp_path: Path) -> AsyncIterator[tuple[SocketTransport, SocketTransport]]:
    sender, receiver = SocketTransport(tmp_path / "wake"), SocketTransport(tmp_path / "wake")
    yield sender, receiver
    await sender.stop()
    await receiver.stop()


async def test_a_socket_peer_hears_a_published_handoff(
    sockets: tuple[SocketTransport, SocketTransport],
) -> None:
    """A key sent by one process arrives at the other process sharing the SQLite file."""
    sender, receiver = sockets
    await started(sender)
    heard = await started(receiver)
    sender.send(HANDOFF, "hof_1")
    await heard.until(lambda messages: (HANDOFF, "hof_1") in messages)


async def test_a_dead_peers_socket_is_removed_and_the_live_one_still_hears(
    sockets: tuple[SocketTransport, SocketTransport], tmp_path: Path
) -> None:
    """A worker killed without cleaning up leaves a socket nobody reads; sending drops it."""
    sender, receiver = sockets
    await started(sender)
    heard = await started(receiver)
    dead = tmp_path / "wake" / "999999-dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gone:
        gone.bind(str(dead))
    sender.send(HANDOFF, "hof_2")
    assert not dead.exists()
    await heard.until(lambda messages: (HANDOFF, "hof_2") in messages)


async def test_a_burst_beyond_the_socket_queue_is_covered_by_a_resync(
    sockets: tuple[SocketTransport, SocketTransport],
) -> None:
    """A thousand wake-ups at once lose none: each arrives, or a later RESYNC covers it."""
    sender, receiver = sockets
    await started(sender)
    heard = await started(receiver)
    keys = [f"hof_{i}" for i in range(1000)]
    for key in keys:
        sender.send(HANDOFF, key)

    def covered(messages: list[tuple[str, str]]) -> bool:
        got = {key for channel, key in messages if channel == HANDOFF}
        return (RESYNC, "") in messages or got >= set(keys)

    await heard.until(covered)


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[PostgresTransport, PostgresTransport]]:
    schema = f"wake_{uuid.uuid4().hex[:10]}"  # a channel of its own; no tables are needed
    url = make_url(POSTGRES_URL)
    pair = PostgresTransport(url, schema=schema), PostgresTransport(url, schema=schema)
    yield pair
    for transport in pair:
        await transport.stop()


async def listening(heard: Heard, *, times: int = 1) -> None:
    """Return once the transport is listening for the ``times``-th time: each (re)connect
    delivers a RESYNC after its LISTEN is in place."""
    await heard.until(lambda messages: messages.count((RESYNC, "")) >= times)


async def terminate_backend(pid: int) -> None:
    engine = create_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await engine.dispose()


@pytest.mark.postgres
async def test_a_postgres_listener_hears_another_connections_notify(
    listeners: tuple[PostgresTransport, PostgresTransport],
) -> None:
    """A key published by one process arrives at another listening on the same schema."""
    sender, receiver = listeners
    sent = await started(sender)
    heard = await started(receiver)
    await listening(heard)
    await listening(sent)
    sender.send(HANDOFF, "hof_3")
    await heard.until(lambda messages: (HANDOFF, "hof_3") in messages)


@pytest.mark.postgres
async def test_a_killed_listener_reconnects_resyncs_and_hears_again(
    listeners: tuple[PostgresTransport, PostgresTransport],
) -> None:
    """With its backend terminated, a listener reconnects by itself, wakes every local
    waiter to re-read what it may have missed, and then hears new notifications."""
    sender, receiver = listeners
    sent = await started(sender)
    heard = await started(receiver)
    await listening(heard)
    await listening(sent)
    assert receiver.server_pid is not None
    await terminate_backend(receiver.server_pid)
    await listening(heard, times=2)
    sender.send(HANDOFF, "hof_4")
    await heard.until(lambda messages: (HANDOFF, "hof_4") in messages)


@pytest.mark.postgres
async def test_a_thousand_notifications_at_once_all_arrive(
    listeners: tuple[PostgresTransport, PostgresTransport],
) -> None:
    """A burst of a thousand decisions is queued without waiting and every one is heard."""
    sender, receiver = listeners
    sent = await started(sender)
    heard = await started(receiver)
    await listening(heard)
    await listening(sent)
    keys = {f"hof_{i}" for i in range(1000)}
    for key in keys:
        sender.send(HANDOFF, key)
    await heard.until(lambda messages: {k for _c, k in messages} >= keys)


async def test_queued_rows_wake_the_own_outbox_worker_and_only_without_one_the_others(
    sockets: tuple[SocketTransport, SocketTransport],
    settings: Settings,
    config: HandrailConfig,
    clock: ManualClock,
) -> None:
    """A process that runs an outbox worker wakes it alone; one that runs none wakes the
    workers of the other processes."""
    sender, receiver = sockets
    heard = await started(receiver)
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    services = Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=clock,
        wakeups=Wakeups(sender),
    )
    await services.wakeups.start()
    try:
        woken: list[str] = []
        services.outbox_wakeup = lambda: woken.append("own")
        services.wake_outbox()
        services.outbox_wakeup = None
        services.wake_outbox()
        sender.send(HANDOFF, "last")
        await heard.until(lambda messages: (HANDOFF, "last") in messages)
        assert woken == ["own"]
        assert heard.messages == [(OUTBOX, ""), (HANDOFF, "last")]
    finally:
        await engine.dispose()
