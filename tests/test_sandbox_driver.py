"""The driver sends what Slack sends: signed forms that slack_sdk and bolt accept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.clock import ManualClock
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client

SECRET = "test-signing-secret"
APPROVE = {
    "type": "actions",
    "block_id": "decide",
    "elements": [
        {
            "type": "button",
            "action_id": "handoff-approve",
            "text": {"type": "plain_text", "text": "Approve"},
            "value": "h-1",
        }
    ],
}
EDIT_MODAL = {
    "type": "modal",
    "callback_id": "handoff-edit",
    "private_metadata": "h-1",
    "title": {"type": "plain_text", "text": "Edit the draft"},
    "submit": {"type": "plain_text", "text": "Approve"},
    "blocks": [
        {
            "type": "input",
            "block_id": "draft",
            "label": {"type": "plain_text", "text": "Draft"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


@dataclass
class Received:
    """What a stand-in bot received, byte for byte."""

    requests: list[tuple[dict[str, str], str]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return self.requests[-1][0]

    @property
    def body(self) -> str:
        return self.requests[-1][1]

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body, keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.form()["payload"])
        return loaded


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
def slack_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(slack_clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=slack_clock) as emu:
        yield emu


@pytest.fixture
async def received() -> AsyncIterator[tuple[Received, str]]:
    """A stand-in bot that records each request and answers 200."""
    record = Received()

    async def handle(request: web.Request) -> web.Response:
        record.requests.append((dict(request.headers), await request.text()))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner, url = await serve(app)
    yield record, url
    await runner.cleanup()


@pytest.fixture
async def recording_driver(
    received: tuple[Received, str], emulator: SlackEmulator
) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(received[1], SECRET, emulator) as driver:
        yield driver


def build_bot(client: AsyncWebClient) -> AsyncApp:
    """A minimal bolt app, finishing each listener before it answers Slack."""
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/handrail")
    async def open_edit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=EDIT_MODAL)

    @app.action("handoff-approve")
    async def approve(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text="Approved by Alice")

    @app.view("handoff-edit")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        draft = view["state"]["values"]["draft"]["text"]["value"]
        if not draft:
            await ack(response_action="errors", errors={"draft": "Write something"})
        else:
            await ack()

    return app


@pytest.fixture
async def driver(emulator: SlackEmulator) -> AsyncIterator[SlackDriver]:
    """A driver aimed at a real bolt app whose Web API client is the emulator."""
    runner, url = await serve(build_bot(web_client(emulator)).web_app())
    async with SlackDriver(url, SECRET, emulator) as slack_driver:
        yield slack_driver
    await runner.cleanup()


async def posted_approval(emulator: SlackEmulator) -> str:
    answer = await web_client(emulator).chat_postMessage(
        channel="C0REVIEW", text="Draft for review", blocks=[APPROVE]
    )
    return str(answer["ts"])


# --- the wire format -------------------------------------------------------------------


async def test_command_is_sent_as_slack_form_fields(
    recording_driver: SlackDriver, received: tuple[Received, str]
) -> None:
    """A slash command arrives form-encoded with Slack's field names."""
    await recording_driver.command("/pause", "ticket-triage", user="U0ALICE", channel="C0REVIEW")
    record = received[0]
    form = record.form()
    assert record.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (form["command"], form["text"], form["user_id"], form["user_name"]) == (
        "/pause",
        "ticket-triage",
        "U0ALICE",
        "alice",
    )
    assert {"channel_id", "team_id", "trigger_id", "response_url", "api_app_id", "token"} <= set(
        form
    )


async def test_signature_verifies_with_slack_sdk(
    recording_driver: SlackDriver, received: tuple[Received, str]
) -> None:
    """slack_sdk's SignatureVerifier accepts the driver's signature and timestamp."""
    await recording_driver.command("/pause", "all", user="U0ALICE", channel="C0REVIEW")
    record = received[0]
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(
        record.body,
        record.headers["X-Slack-Request-Timestamp"],
        record.headers["X-Slack-Signature"],
    )


async def test_bad_signature_fails_verification(
    recording_driver: SlackDriver, received: tuple[Received, str]
) -> None:
    """tamper="bad_signature" sends a signature SignatureVerifier rejects."""
    await recording_driver.command(
        "/pause", "all", user="U0ALICE", channel="C0REVIEW", tamper="bad_signature"
    )
    record = received[0]
    assert not SignatureVerifier(SECRET).is_valid_request(record.body, record.headers)


async def test_stale_timestamp_fails_verification(
    recording_driver: SlackDriver, received: tuple[Received, str]
) -> None:
    """tamper="stale_timestamp" signs correctly but ten minutes in the past."""
    await recording_driver.command(
        "/pause", "all", user="U0ALICE", channel="C0REVIEW", tamper="stale_timestamp"
    )
    record = received[0]
    assert not SignatureVerifier(SECRET).is_valid_request(record.body, record.headers)


async def test_click_sends_a_block_actions_payload_with_the_stored_message(
    recording_driver: SlackDriver, received: tuple[Received, str], emulator: SlackEmulator
) -> None:
    """A click carries the action, its block_id and value, and the message as stored."""
    ts = await posted_approval(emulator)
    await recording_driver.click(
        action_id="handoff-approve", user="U0BOB", channel="C0REVIEW", message_ts=ts
    )
    payload = received[0].payload()
    [action] = payload["actions"]
    assert payload["type"] == "block_actions"
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "handoff-approve",
        "decide",
        "h-1",
    )
    assert payload["container"]["message_ts"] == payload["message"]["ts"] == ts
    assert payload["message"]["blocks"] == [APPROVE]


async def test_click_on_a_missing_button_raises(
    recording_driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """Clicking an action_id the message does not carry is a LookupError, not a request."""
    ts = await posted_approval(emulator)
    with pytest.raises(LookupError, match="handoff-reject"):
        await recording_driver.click(
            action_id="handoff-reject", user="U0BOB", channel="C0REVIEW", message_ts=ts
        )


async def test_click_on_an_ephemeral_message_has_no_message(
    recording_driver: SlackDriver, received: tuple[Received, str], emulator: SlackEmulator
) -> None:
    """A click on an ephemeral message says so in the container and carries no message."""
    answer = await web_client(emulator).chat_postEphemeral(
        channel="C0REVIEW", user="U0BOB", text="Only you", blocks=[APPROVE]
    )
    await recording_driver.click(
        action_id="handoff-approve",
        user="U0BOB",
        channel="C0REVIEW",
        message_ts=answer["message_ts"],
    )
    payload = received[0].payload()
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload


async def test_submit_view_state_values_have_slack_shape(
    recording_driver: SlackDriver, received: tuple[Received, str]
) -> None:
    """Plain values become {"type": "plain_text_input", "value": ...} under block and action."""
    await recording_driver.submit_view(
        callback_id="handoff-edit",
        state_values={"draft": {"text": "Hello"}},
        private_metadata="h-1",
        user="U0ALICE",
    )
    view = received[0].payload()["view"]
    assert view["state"]["values"] == {
        "draft": {"text": {"type": "plain_text_input", "value": "Hello"}}
    }
    assert (view["callback_id"], view["private_metadata"]) == ("handoff-edit", "h-1")


async def test_response_url_points_at_the_emulator(
    recording_driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """The response_url handed to the bot is served by the emulator."""
    answer = await recording_driver.command("/pause", "all", user="U0ALICE", channel="C0REVIEW")
    assert answer.response_url is not None
    assert answer.response_url.startswith(f"{emulator.url}/response/")


# --- against a real bolt app -----------------------------------------------------------


async def test_bolt_accepts_a_driven_command(driver: SlackDriver) -> None:
    """bolt verifies the driver's signature and acknowledges the command."""
    answer = await driver.command("/handrail", "status", user="U0ALICE", channel="C0REVIEW")
    assert answer.status == 200


async def test_bolt_rejects_a_forged_signature(driver: SlackDriver) -> None:
    """bolt answers 401 to a request signed with the wrong secret."""
    answer = await driver.command(
        "/handrail", "status", user="U0ALICE", channel="C0REVIEW", tamper="bad_signature"
    )
    assert answer.status == 401


async def test_bolt_rejects_a_stale_timestamp(driver: SlackDriver) -> None:
    """bolt answers 401 to a request older than five minutes."""
    answer = await driver.command(
        "/handrail", "status", user="U0ALICE", channel="C0REVIEW", tamper="stale_timestamp"
    )
    assert answer.status == 401


async def test_views_open_accepts_the_drivers_trigger(
    driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """The trigger_id in a driven command opens a modal in the emulator."""
    await driver.command("/handrail", "edit", user="U0ALICE", channel="C0REVIEW")
    [call] = emulator.calls_to("views.open")
    assert call.ok is True
    assert [v.callback_id for v in emulator.views] == ["handoff-edit"]


async def test_respond_from_a_click_replaces_the_message(
    driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """respond(replace_original=True) through the response_url rewrites the clicked message."""
    ts = await posted_approval(emulator)
    await driver.click(action_id="handoff-approve", user="U0BOB", channel="C0REVIEW", message_ts=ts)
    stored = emulator.message("C0REVIEW", ts)
    assert (stored.text, stored.blocks) == ("Approved by Alice", [])


async def test_a_plain_ack_closes_the_submitted_view(
    driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """Submitting the opened modal with a valid draft closes it."""
    await driver.command("/handrail", "edit", user="U0ALICE", channel="C0REVIEW")
    [view] = emulator.views
    await driver.submit_view(
        view_id=view.id, state_values={"draft": {"text": "Hi"}}, user="U0ALICE"
    )
    assert view.closed


async def test_errors_keep_the_submitted_view_open(
    driver: SlackDriver, emulator: SlackEmulator
) -> None:
    """A response_action of errors is returned to the test and leaves the modal open."""
    await driver.command("/handrail", "edit", user="U0ALICE", channel="C0REVIEW")
    [view] = emulator.views
    answer = await driver.submit_view(
        view_id=view.id, state_values={"draft": {"text": ""}}, user="U0ALICE"
    )
    assert answer.json() == {"response_action": "errors", "errors": {"draft": "Write something"}}
    assert not view.closed
