"""Plays Slack's side of the bot's inbound traffic: signed commands, clicks and submissions.

Requests go to the bot's ``/slack/events`` exactly as Slack sends them (form-encoded, with
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``), so the bot's real signature check,
bolt's parsing and Handrail's handlers all run. trigger_ids and response_urls are issued by
the emulator, so ``views.open`` and ``respond()`` from the bot land back in it.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp

from sandbox import payloads
from sandbox.clock import Clock, seconds
from sandbox.emulator import SlackEmulator
from sandbox.models import JSON, User
from sandbox.webapi_views import after_submission, close_view

Tamper = Literal["bad_signature", "stale_timestamp", "no_signature", "garbled_timestamp"]
"""How to break a request for negative tests: wrong HMAC, 10-minute-old timestamp, no
headers, or a timestamp header that is not a number."""
STALE_SECONDS = 600
VERIFICATION_TOKEN = "legacy-verification-token"  # noqa: S105 - Slack's deprecated field, unused


def sign(signing_secret: str, timestamp: str, body: str | bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{ts}:{body}``.

    ``body`` as bytes signs them as they are, even when they are not UTF-8.
    """
    raw = body if isinstance(body, bytes) else body.encode()
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class BotResponse:
    """The bot's HTTP answer, and what the driver sent to get it."""

    status: int
    text: str
    headers: dict[str, str]
    sent: JSON
    """The payload (interactivity, events) or form fields (commands) that were sent."""
    raw_body: str
    request_headers: dict[str, str] = field(default_factory=dict)
    trigger_id: str | None = None
    response_url: str | None = None

    def json(self) -> Any:
        """The body parsed as JSON; None for an empty body (a plain ack)."""
        return json.loads(self.text) if self.text else None


class SlackDriver:
    """Sends Slack-signed requests to a running bot and wires them to the emulator."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        *,
        clock: Clock = time.time,
        events_path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        base = bot_url.rstrip("/")
        self.events_url = base if base.endswith(events_path) else base + events_path
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.clock = clock
        self.now = seconds(clock)
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- transport -----------------------------------------------------------------------

    async def send(
        self,
        body: str | bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str, dict[str, str], dict[str, str]]:
        """POST a raw body, signed (or tampered): (status, text, headers, request headers)."""
        ts = int(self.now()) if timestamp is None else timestamp
        if tamper == "stale_timestamp":
            ts -= STALE_SECONDS
        signature = sign(self.signing_secret, str(ts), body)
        if tamper == "bad_signature":
            signature = sign(self.signing_secret + "-wrong", str(ts), body)
        headers = {"Content-Type": content_type}
        if tamper != "no_signature":
            headers["X-Slack-Request-Timestamp"] = str(ts)
            headers["X-Slack-Signature"] = signature
        if tamper == "garbled_timestamp":
            headers["X-Slack-Request-Timestamp"] = "not-a-number"
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        data = body if isinstance(body, bytes) else body.encode()
        async with self._session.post(self.events_url, data=data, headers=headers) as res:
            return res.status, await res.text(), dict(res.headers), headers

    async def _send_form(
        self, fields: Mapping[str, str], sent: JSON, *, tamper: Tamper | None, timestamp: int | None
    ) -> BotResponse:
        raw = urlencode(fields)
        status, text, headers, request_headers = await self.send(
            raw, tamper=tamper, timestamp=timestamp
        )
        return BotResponse(status, text, headers, sent, raw, request_headers)

    async def _send_payload(
        self, payload: JSON, *, tamper: Tamper | None, timestamp: int | None
    ) -> BotResponse:
        fields = {"payload": json.dumps(payload, separators=(",", ":"))}
        response = await self._send_form(fields, payload, tamper=tamper, timestamp=timestamp)
        response.trigger_id = payload.get("trigger_id")
        response.response_url = payload.get("response_url")
        return response

    # --- helpers -------------------------------------------------------------------------

    def _user(self, user_id: str) -> User:
        """The seeded user, or a stand-in so tests can click as a stranger."""
        return self.emulator.workspace.users.get(user_id) or User(user_id, user_id.lower())

    def _channel_name(self, channel_id: str) -> str:
        channel = self.emulator.workspace.channels.get(channel_id)
        if channel is None:
            return "unknown"
        return "directmessage" if channel.is_im else channel.name

    # --- what a person does in Slack -----------------------------------------------------

    async def command(
        self,
        name: str,
        text: str = "",
        *,
        user: str,
        channel: str,
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> BotResponse:
        """``/name text`` typed by ``user`` in ``channel``."""
        trigger_id = self.emulator.issue_trigger(user)
        response_url = self.emulator.issue_response_url(channel=channel, user=user, message_ts=None)
        fields = payloads.command_fields(
            self.emulator.workspace.identity,
            command=name,
            text=text,
            user=self._user(user),
            channel_id=channel,
            channel_name=self._channel_name(channel),
            trigger_id=trigger_id,
            response_url=response_url,
            token=VERIFICATION_TOKEN,
        )
        response = await self._send_form(fields, dict(fields), tamper=tamper, timestamp=timestamp)
        response.trigger_id, response.response_url = trigger_id, response_url
        return response

    def _clicked_message(
        self, channel: str, message_ts: str, message: JSON | None
    ) -> tuple[JSON | None, list[JSON]]:
        """The message payload (None if ephemeral) and the blocks the click happened in."""
        if message is not None:
            return message, list(message.get("blocks", []))
        team_id = self.emulator.workspace.identity.team_id
        for stored in self.emulator.messages(channel):
            if stored.ts == message_ts:
                return stored.to_slack(team_id=team_id), stored.blocks
        for ephemeral in self.emulator.ephemerals:
            if ephemeral.channel == channel and ephemeral.ts == message_ts:
                return None, ephemeral.blocks
        raise LookupError(f"no message {message_ts} in {channel} to click on")

    async def click(
        self,
        *,
        action_id: str,
        user: str,
        channel: str,
        message_ts: str,
        value: object = None,
        block_id: str | None = None,
        message: JSON | None = None,
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> BotResponse:
        """``user`` clicks the element ``action_id`` on a message (``value``: the button's).

        The element must be in the message as stored in the emulator (or in ``message``), so
        a click on a button that an update removed raises LookupError — unless ``block_id``
        is given, which sends the click regardless (a stale client).
        """
        msg_json, blocks = self._clicked_message(channel, message_ts, message)
        found = payloads.find_element(blocks, action_id)
        if found is None and block_id is None:
            raise LookupError(f"no element {action_id!r} in message {message_ts} in {channel}")
        if found is None:
            element: JSON = {"type": "button", "action_id": action_id}
            element["text"] = {"type": "plain_text", "text": action_id}
            found_block_id: str | None = block_id
        else:
            found_block_id, element = found
        action = payloads.action_json(
            element,
            block_id=block_id or found_block_id or "",
            value=element.get("value") if value is None else value,
            action_ts=f"{self.now():.6f}",
        )
        payload = payloads.block_actions(
            self.emulator.workspace.identity,
            user=self._user(user),
            channel_id=channel,
            channel_name=self._channel_name(channel),
            message_ts=message_ts,
            message=msg_json,
            actions=[action],
            trigger_id=self.emulator.issue_trigger(user),
            response_url=self.emulator.issue_response_url(
                channel=channel, user=user, message_ts=message_ts
            ),
            token=VERIFICATION_TOKEN,
        )
        return await self._send_payload(payload, tamper=tamper, timestamp=timestamp)

    async def open_home(
        self, *, user: str, tamper: Tamper | None = None, timestamp: int | None = None
    ) -> BotResponse:
        """``user`` opens the app's Home tab: ``app_home_opened`` in an ``event_callback``,
        sent as JSON and signed as Slack signs events; ``view`` is the tab last published."""
        ws = self.emulator.workspace
        dm = ws.open_dm(user)
        now = self.now()
        event = payloads.app_home_opened(
            user=user, channel=dm.id, event_ts=f"{now:.6f}", view=ws.home_tabs.get(user)
        )
        envelope = payloads.event_callback(
            ws.identity, event=event, event_id=ws.next_id("Ev"), event_time=int(now)
        )
        body = json.dumps(envelope, separators=(",", ":"))
        status, text, headers, request_headers = await self.send(
            body, content_type="application/json", tamper=tamper, timestamp=timestamp
        )
        return BotResponse(status, text, headers, envelope, body, request_headers)

    async def click_home(
        self,
        *,
        action_id: str,
        user: str,
        value: str | None = None,
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> BotResponse:
        """``user`` clicks ``action_id`` in their Home tab, on the button whose value is
        ``value`` (or the first such button). The tab must have been published to them and
        hold that button, else LookupError."""
        view = self.emulator.workspace.home_tabs.get(user)
        if view is None:
            raise LookupError(f"no Home tab was published to {user}")
        found = None
        for block in view["blocks"]:
            for element in block.get("elements") or [block.get("accessory") or {}]:
                if element.get("action_id") == action_id and value in (None, element.get("value")):
                    found = (block.get("block_id") or "", element)
                    break
            if found is not None:
                break
        if found is None:
            raise LookupError(f"no element {action_id!r} (value {value!r}) in {user}'s Home tab")
        block_id, element = found
        action = payloads.action_json(
            element, block_id=block_id, value=element.get("value"), action_ts=f"{self.now():.6f}"
        )
        payload = payloads.home_block_actions(
            self.emulator.workspace.identity,
            user=self._user(user),
            view=copy.deepcopy(view),
            actions=[action],
            trigger_id=self.emulator.issue_trigger(user),
            token=VERIFICATION_TOKEN,
        )
        return await self._send_payload(payload, tamper=tamper, timestamp=timestamp)

    def _view_json(
        self, view_id: str | None, callback_id: str | None, private_metadata: str | None
    ) -> JSON:
        ws = self.emulator.workspace
        view: JSON
        if view_id is not None:
            view = copy.deepcopy(self.emulator.view(view_id).view)
        else:
            new_id = ws.next_id("V")
            view = {
                "id": new_id,
                "team_id": ws.identity.team_id,
                "type": "modal",
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "state": {"values": {}},
                "hash": f"{int(self.now())}.{new_id}",
                "root_view_id": new_id,
                "previous_view_id": None,
                "app_id": ws.identity.app_id,
                "bot_id": ws.identity.bot_id,
            }
        if callback_id is not None:
            view["callback_id"] = callback_id
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        if not view["callback_id"]:
            raise ValueError("submit_view needs a callback_id or the view_id of an opened view")
        return view

    async def submit_view(
        self,
        *,
        user: str,
        callback_id: str | None = None,
        state_values: Mapping[str, Mapping[str, object]] | None = None,
        private_metadata: str | None = None,
        view_id: str | None = None,
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> BotResponse:
        """``user`` submits a modal; with ``view_id`` the opened view is sent back.

        ``state_values`` is ``{block_id: {action_id: value}}``; plain values are wrapped as
        Slack reports them. The bot's answer is applied to the emulator's view: a plain ack
        closes it, ``errors`` keeps it open, ``update``/``push``/``clear`` do what they say.
        """
        view = self._view_json(view_id, callback_id, private_metadata)
        view["state"] = {"values": payloads.state_values(state_values or {}, view["blocks"])}
        payload = payloads.view_submission(
            self.emulator.workspace.identity,
            user=self._user(user),
            view=view,
            trigger_id=self.emulator.issue_trigger(user),
            token=VERIFICATION_TOKEN,
        )
        response = await self._send_payload(payload, tamper=tamper, timestamp=timestamp)
        if view_id is not None and response.status == 200:
            try:
                answer = response.json()
            except json.JSONDecodeError:
                answer = None
            after_submission(self.emulator.workspace, self.emulator.view(view_id), answer)
        return response

    async def close_view(
        self,
        *,
        user: str,
        view_id: str,
        tamper: Tamper | None = None,
        timestamp: int | None = None,
    ) -> BotResponse | None:
        """``user`` dismisses an opened modal; ``view_closed`` is sent only if it asked.

        Like Slack, the bot hears about it only when the view set ``notify_on_close``;
        otherwise the view is just marked closed and None is returned.
        """
        stored = self.emulator.view(view_id)
        close_view(self.emulator.workspace, stored)
        if not stored.view.get("notify_on_close"):
            return None
        payload = payloads.view_closed(
            self.emulator.workspace.identity,
            user=self._user(user),
            view=stored.view,
            token=VERIFICATION_TOKEN,
        )
        return await self._send_payload(payload, tamper=tamper, timestamp=timestamp)
