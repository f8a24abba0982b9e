"""Wake-ups between the processes on one machine that share a SQLite file.

Each process binds a Unix datagram socket in a directory named after the database file
(the workers of ``serve --workers N`` and any other ``serve`` on the same file find each
other there, with no parent to coordinate). Sending is one non-blocking ``sendto`` per peer:
a peer that is gone (a killed worker) refuses, and its socket file is removed. A peer whose
queue is full (Linux queues ten datagrams per socket by default, so a burst of clicks fills
it) is owed one ``RESYNC`` instead, sent as soon as it has room: it wakes every waiter there
to re-read, so a burst costs re-reads, never a missed decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import tempfile
from pathlib import Path

from bot.wakeups.hub import RESYNC, Deliver

log = logging.getLogger("handrail.wakeups")

MAX_DATAGRAM = 512
SUFFIX = ".sock"
RETRY_SECONDS = 0.005


class SocketTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path: Path | None = None
        self._receiver: socket.socket | None = None
        self._sender: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        self._behind: set[str] = set()
        """Peers whose queue was full: each is owed a RESYNC."""
        self._retry: asyncio.TimerHandle | None = None

    @classmethod
    def for_database_file(cls, database: str) -> SocketTransport:
        """The directory every process on this file uses; short, since a socket path is
        limited to about 100 bytes, and private to this user."""
        digest = hashlib.sha256(os.path.abspath(database).encode()).hexdigest()[:16]
        return cls(Path(tempfile.gettempdir()) / f"handrail-wake-{os.getuid()}-{digest}")

    async def start(self, deliver: Deliver) -> None:
        self.directory.mkdir(mode=0o700, exist_ok=True)
        self.path = self.directory / f"{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.setblocking(False)
        receiver.bind(str(self.path))
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        self._receiver, self._sender, self._deliver = receiver, sender, deliver
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(receiver.fileno(), self._on_readable)

    def send(self, channel: str, key: str) -> None:
        if self._sender is None:
            return
        payload = f"{channel}\n{key}".encode()[:MAX_DATAGRAM]
        try:
            peers = [entry for entry in os.scandir(self.directory) if entry.name.endswith(SUFFIX)]
        except OSError:
            return
        for peer in peers:
            if self.path is None or peer.path == str(self.path) or peer.path in self._behind:
                continue  # a peer owed a RESYNC gets it, which covers this message too
            self._send_to(peer.path, payload)

    def _send_to(self, peer: str, payload: bytes) -> None:
        assert self._sender is not None
        assert self._loop is not None
        try:
            self._sender.sendto(payload, peer)
        except (ConnectionRefusedError, FileNotFoundError):
            self._behind.discard(peer)
            with contextlib.suppress(OSError):
                os.unlink(peer)  # nobody listens there any more: a process died
        except BlockingIOError:
            self._behind.add(peer)
            if self._retry is None:
                self._retry = self._loop.call_later(RETRY_SECONDS, self._catch_up)
        except OSError:
            pass  # anything else: that process re-reads on its own timer

    def _catch_up(self) -> None:
        """Send each peer that was full its RESYNC; still full, try again shortly."""
        self._retry = None
        if self._sender is None:
            return
        behind, self._behind = self._behind, set()
        for peer in behind:
            self._send_to(peer, f"{RESYNC}\n".encode())

    def _on_readable(self) -> None:
        assert self._receiver is not None
        assert self._deliver is not None
        for _ in range(256):  # bounded, so a flood cannot hold the event loop
            try:
                data = self._receiver.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.warning("wake-up socket failed; waiters fall back to re-reading")
                return
            channel, _, key = data.decode(errors="replace").partition("\n")
            self._deliver(channel, key)

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._loop is not None and self._receiver is not None:
            self._loop.remove_reader(self._receiver.fileno())
        for sock in (self._receiver, self._sender):
            if sock is not None:
                sock.close()
        self._receiver = self._sender = None
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
