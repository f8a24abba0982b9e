"""The outbox worker as the app runs it: built from Services, woken by the domain."""

from __future__ import annotations

import asyncio
import copy

import pytest
from pydantic import SecretStr

from bot.outbox.runtime import OutboxRuntime, callback_secrets
from bot.renderers.registry import Renderers
from bot.services import Services
from handlers.blocks import Message
from sandbox.testing import running_emulator
from sandbox.workspace import DEFAULT_TOKEN
from tests.conftest import TEST_WORKFLOWS
from workflows.clock import ManualClock
from workflows.config.brief import parse_config
from workflows.delivery import outbox


async def render_text(_db: object, ref: str) -> Message:
    return Message(text=f"hello {ref}", blocks=[])


async def test_runtime_posts_what_the_domain_queues_after_a_wake(
    services: Services, clock: ManualClock
) -> None:
    """Started from Services, the worker posts a queued row once woken, and stops cleanly."""
    async with running_emulator(clock=clock, post_rate=None) as emulator:
        services.settings = services.settings.model_copy(
            update={"slack_bot_token": SecretStr(DEFAULT_TOKEN), "slack_api_url": emulator.api_url}
        )
        runtime = OutboxRuntime(services, renderers=Renderers({"text": render_text}))
        await runtime.start()
        try:
            async with services.sessions() as db, db.begin():
                await outbox.post_message(
                    db, key="p1", channel="C0REVIEW", render="text", ref="p1", now=clock()
                )
            services.wake_outbox()
            for _ in range(500):
                if emulator.messages("C0REVIEW"):
                    break
                await asyncio.sleep(0.01)
        finally:
            await runtime.stop()

        assert [message.text for message in emulator.messages("C0REVIEW")] == ["hello p1"]
        services.wake_outbox()  # after stop: harmless


def test_callback_secret_is_read_from_the_environment_variable_the_brief_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each workflow signs with the secret in its own variable; none configured, none used."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["callback_url"] = "https://automation.internal/handrail"
    raw["workflows"]["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"
    monkeypatch.setenv("TRIAGE_CALLBACK_SECRET", "whsec-triage")
    secrets = callback_secrets(parse_config(raw))

    assert secrets("ticket-triage") == "whsec-triage"
    assert secrets("invoice-extraction") is None
    assert secrets("no-such-workflow") is None
