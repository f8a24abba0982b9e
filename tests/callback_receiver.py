"""An automation's callback endpoint on a real port, for the webhook tests.

``receiving_callbacks`` starts it (a plain context manager, so each module builds its own
fixture); ``config_calling_back`` is the test workflows with ticket-triage's outcomes
pushed to it; ``webhook_worker`` is the real outbox worker with only webhooks to deliver.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.outbox import OutboxWorker, WorkerSettings
from bot.renderers.registry import Renderers
from store.engine import Sessions
from tests.conftest import TEST_WORKFLOWS
from workflows.clock import Clock
from workflows.config.brief import HandrailConfig, parse_config

SECRET = "whsec-test-secret"


def config_calling_back(url: str) -> HandrailConfig:
    """The test workflows, with ticket-triage's outcomes pushed to ``url``."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["callback_url"] = url
    raw["workflows"]["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"
    return parse_config(raw)


@dataclass
class Receiver:
    """Answers from a script (200 when it runs out) and records every request it got."""

    url: str = ""
    answers: list[tuple[int, str]] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with every answer, e.g. ``Retry-After``."""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        status, text = self.answers.pop(0) if self.answers else (200, "ok")
        return web.Response(status=status, text=text, headers=self.headers)

    def bodies(self) -> list[Any]:
        """Each body received, checked against its signature as an automation would."""
        found = []
        for headers, body in self.received:
            timestamp = headers["X-Handrail-Timestamp"]
            mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
            assert hmac.compare_digest(headers["X-Handrail-Signature"], f"v1={mac.hexdigest()}")
            found.append(json.loads(body))
        return found


@asynccontextmanager
async def receiving_callbacks() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with TestServer(app) as server:
        receiver.url = str(server.make_url("/hook"))
        yield receiver


@asynccontextmanager
async def webhook_worker(
    sessions: Sessions, clock: Clock, *, readers: Sessions | None = None, secret: str = SECRET
) -> AsyncIterator[OutboxWorker]:
    """The outbox worker with an HTTP session and ticket-triage's secret, and no Slack."""
    async with aiohttp.ClientSession() as session:
        yield OutboxWorker(
            sessions=sessions,
            readers=readers,
            slack_client=None,
            renderers=Renderers(),
            clock=clock,
            http_session=session,
            webhook_secrets={"ticket-triage": secret}.get,
            settings=WorkerSettings(max_attempts=3),
            rng=random.Random(3),
        )
