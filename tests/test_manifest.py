"""manifest.yml, the Slack app's manifest, agrees with the code that answers Slack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.app import SLACK_EVENTS_PATH
from handlers.ids import Command

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_the_slash_commands_are_exactly_the_command_ids(manifest: dict[str, Any]) -> None:
    """The manifest lists each member of handlers.ids.Command once, and nothing else."""
    commands = [entry["command"] for entry in manifest["features"]["slash_commands"]]
    assert sorted(commands) == sorted(member.value for member in Command)


def test_every_slash_command_is_described(manifest: dict[str, Any]) -> None:
    """Each command has a description and a usage hint, as Slack shows them while typing."""
    for entry in manifest["features"]["slash_commands"]:
        assert entry["description"].strip(), entry["command"]
        assert entry["usage_hint"].strip(), entry["command"]


def test_interactivity_is_on_and_sent_to_slack_events(manifest: dict[str, Any]) -> None:
    """Buttons and modals are enabled and delivered to the path the bot serves."""
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(SLACK_EVENTS_PATH)


def test_the_home_tab_is_enabled_and_app_home_opened_subscribed(manifest: dict[str, Any]) -> None:
    """The App Home tab is on and its opening is delivered to the path the bot serves."""
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]
    assert "app_home_opened" in events["bot_events"]
    assert events["request_url"].endswith(SLACK_EVENTS_PATH)
