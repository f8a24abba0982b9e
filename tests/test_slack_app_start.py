"""Building the bolt app at start-up: quiet, and aimed where the settings say."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from bot.services import Services
from bot.slack.app import build_slack_app

TOKEN = "xoxb-test-token"


def with_token(services: Services) -> Services:
    settings = services.settings.model_copy(
        update={
            "slack_bot_token": SecretStr(TOKEN),
            "slack_api_url": "http://127.0.0.1:9/api/",
        }
    )
    return Services(
        settings=settings,
        config=services.config,
        engine=services.engine,
        sessions=services.sessions,
        clock=services.clock,
    )


def test_bolt_does_not_warn_that_the_token_is_unused(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With SLACK_BOT_TOKEN in the environment, as in production, bolt logs no warning."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with caplog.at_level(logging.WARNING):
        build_slack_app(with_token(services))
    assert [record.getMessage() for record in caplog.records] == []


def test_the_web_api_client_uses_the_configured_url_token_and_no_retries(
    services: Services,
) -> None:
    """Bolt's client carries the bot token, calls SLACK_API_URL and retries nothing itself."""
    app = build_slack_app(with_token(services))
    assert app.client.token == TOKEN
    assert app.client.base_url == "http://127.0.0.1:9/api/"
    assert app.client.retry_handlers == []
