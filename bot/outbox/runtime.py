"""The outbox worker for the life of the app: its HTTP session, its Slack client, its loop.

``build_app`` starts it after the database is migrated and stops it before the engine is
disposed; everything the worker needs comes from ``Services`` and the settings.
"""

from __future__ import annotations

import os

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.settings import WorkerSettings
from bot.outbox.webhook import WebhookSecrets
from bot.outbox.worker import OutboxWorker
from bot.renderers.registry import Renderers
from bot.services import Services
from workflows.config.brief import HandrailConfig


def callback_secrets(config: HandrailConfig) -> WebhookSecrets:
    """A workflow's callback signing secret, read from the environment variable its brief
    names (``callback_secret_env``) when a webhook is sent, so a rotated secret is used
    without a restart and no secret sits in memory longer than a delivery."""

    def secret(workflow: str) -> str | None:
        brief = config.workflow(workflow)
        if brief is None or brief.callback_secret_env is None:
            return None
        return os.environ.get(brief.callback_secret_env) or None

    return secret


class OutboxRuntime:
    """Owns the worker and what it talks through; ``start()`` once, ``stop()`` once."""

    def __init__(
        self,
        services: Services,
        *,
        renderers: Renderers,
        settings: WorkerSettings | None = None,
    ) -> None:
        self.services = services
        self.renderers = renderers
        self.settings = settings
        self.worker: OutboxWorker | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP session, build the Slack client (retries off: the worker decides)
        and run the worker; ``services.wake_outbox()`` then wakes it."""
        if self.worker is not None:
            raise RuntimeError("the outbox runtime is already started")
        settings = self.services.settings
        self._http = aiohttp.ClientSession()
        slack = None
        if settings.slack_bot_token is not None:
            slack = AsyncWebClient(
                token=settings.slack_bot_token.get_secret_value(),
                base_url=settings.slack_api_url,
                session=self._http,
                retry_handlers=[],
            )
        self.worker = OutboxWorker(
            sessions=self.services.sessions,
            readers=self.services.readers,
            slack_client=slack,
            renderers=self.renderers,
            clock=self.services.clock,
            http_session=self._http,
            webhook_secrets=callback_secrets(self.services.config),
            settings=self.settings or WorkerSettings(poll_interval=settings.outbox_poll_seconds),
        )
        self.services.outbox_wakeup = self.worker.wake
        self.worker.start()

    async def stop(self) -> None:
        """Stop the worker (in-flight deliveries finish, bounded) and close the session."""
        self.services.outbox_wakeup = None
        try:
            if self.worker is not None:
                await self.worker.stop()
        finally:
            self.worker = None
            if self._http is not None:
                await self._http.close()
                self._http = None
