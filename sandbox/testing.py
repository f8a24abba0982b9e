"""Small helpers for tests that talk to the emulator through the real slack_sdk client.

Kept in the package (not in ``tests/``) so every test module, benchmark and the later
sandbox UI builds clients the same way: pointed at ``api_url``, retries off unless asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from sandbox.emulator import SlackEmulator
from sandbox.workspace import DEFAULT_TOKEN


@asynccontextmanager
async def running_emulator(**kwargs: Any) -> AsyncIterator[SlackEmulator]:
    """A started emulator (keyword seeds as for SlackEmulator), stopped on exit."""
    emulator = SlackEmulator(**kwargs)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def web_client(
    emulator: SlackEmulator,
    *,
    token: str = DEFAULT_TOKEN,
    timeout: float = 5.0,
    retries: bool = False,
) -> AsyncWebClient:
    """The real AsyncWebClient on the emulator; without retries, a 429 surfaces at once."""
    kwargs: dict[str, Any] = {"token": token, "base_url": emulator.api_url, "timeout": timeout}
    if not retries:
        kwargs["retry_handlers"] = []
    return AsyncWebClient(**kwargs)
