"""What a person does on the page, sent to Handrail exactly as Slack sends it.

Clicks, modal submissions, modal dismissals and slash commands go through
``sandbox.driver.SlackDriver`` (form-encoded, signed, with a trigger_id and response_url
from the emulator), so Handrail's real signature check, bolt and handlers answer them.
Handrail's answer is applied as Slack applies it: a slash command's ack body is shown to
the person only; a submission's ``response_action`` keeps, updates or closes the modal.

Anything the page server refuses itself (a modal already submitted, a message gone since
it was drawn, a command Slack would not send) raises ``Refused``: nothing is sent, and the
person sees why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.blockkit_limits import MESSAGE_TEXT_MAX
from sandbox.driver import BotResponse, SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.models import ResponseUrl
from sandbox.web.state import JSON, open_modal
from sandbox.webapi_chat import apply_response
from sandbox.workspace import SlackError

COMMANDS = ("/trace", "/pause", "/resume", "/handrail")


class Refused(Exception):
    """The page server will not send this; ``message`` tells the person why."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Acting:
    """Sends one person's actions to Handrail and applies its answers."""

    driver: SlackDriver
    submitting: set[str] = field(default_factory=set)
    """View ids whose submission is in flight: a second click on Submit is refused."""

    @property
    def emulator(self) -> SlackEmulator:
        return self.driver.emulator

    def person(self, user: object) -> str:
        if not isinstance(user, str) or user not in self.emulator.workspace.users:
            raise Refused(f"unknown user {user!r}: pick someone in the user switcher", status=400)
        return user

    async def _send(self, what: str, sending: Awaitable[BotResponse | None]) -> BotResponse | None:
        """Await the driver; Handrail not answering, or answering an error, is a refusal."""
        try:
            response = await sending
        except TimeoutError:
            raise Refused(
                f"Handrail did not answer the {what} within Slack's time "
                f"({self.driver.timeout:g} s); it may still act on it",
                status=504,
            ) from None
        except aiohttp.ClientError as error:
            raise Refused(
                f"Handrail could not be reached for the {what}: {error}", status=502
            ) from None
        if response is not None and response.status != 200:
            detail = " ".join(response.text.split())[:200] or "no body"
            raise Refused(
                f"Handrail answered the {what} with HTTP {response.status}: {detail}", status=502
            )
        return response

    async def home(self, body: Mapping[str, Any]) -> JSON:
        """The person opens the app's Home tab: ``app_home_opened``, as Slack sends it."""
        user = self.person(body.get("user"))
        await self._send("Home tab", self.driver.open_home(user=user))
        return {"ok": True}

    async def click(self, body: Mapping[str, Any]) -> JSON:
        """A click on a button, a menu option or an overflow item of a message (or, with
        ``home``, of the person's Home tab)."""
        user = self.person(body.get("user"))
        if body.get("home") is True:
            return await self._click_home(user, body)
        channel, ts, action_id = body.get("channel"), body.get("ts"), body.get("action_id")
        if not all(isinstance(v, str) and v for v in (channel, ts, action_id)):
            raise Refused("a click needs channel, ts and action_id", status=400)
        value = body.get("value")
        try:
            await self._send(
                "click",
                self.driver.click(
                    action_id=str(action_id),
                    user=user,
                    channel=str(channel),
                    message_ts=str(ts),
                    value=value if isinstance(value, str) else None,
                ),
            )
        except LookupError:
            raise Refused(
                "That message was deleted or changed since you saw it; nothing was sent. "
                "The page now shows it as it is."
            ) from None
        return {"ok": True}

    async def _click_home(self, user: str, body: Mapping[str, Any]) -> JSON:
        action_id, value = body.get("action_id"), body.get("value")
        if not isinstance(action_id, str) or not action_id:
            raise Refused("a click needs action_id", status=400)
        try:
            await self._send(
                "click",
                self.driver.click_home(
                    action_id=action_id,
                    user=user,
                    value=value if isinstance(value, str) else None,
                ),
            )
        except LookupError:
            raise Refused(
                "That button is no longer in your Home tab; nothing was sent. "
                "The page now shows the tab as it is."
            ) from None
        return {"ok": True}

    async def submit(self, body: Mapping[str, Any]) -> JSON:
        """The modal's Submit; answers with Handrail's ``response_action`` and field errors."""
        user = self.person(body.get("user"))
        view_id, values = body.get("view_id"), body.get("values")
        if not isinstance(values, dict):
            raise Refused("a submission needs values", status=400)
        view = open_modal(self.emulator, user)
        if view is None or view.id != view_id or view_id in self.submitting:
            raise Refused("This form was already submitted or closed; it was not sent again.")
        self.submitting.add(view.id)
        try:
            response = await self._send(
                "form",
                self.driver.submit_view(user=user, view_id=view.id, state_values=values),
            )
        finally:
            self.submitting.discard(view.id)
        answer = _json_or_none(response.text) if response is not None else None
        action = answer.get("response_action") if isinstance(answer, dict) else None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        return {"ok": True, "response_action": action, "errors": errors or {}}

    async def close(self, body: Mapping[str, Any]) -> JSON:
        """The modal's Cancel (or Escape): closed, and Handrail told if it asked."""
        user = self.person(body.get("user"))
        view = open_modal(self.emulator, user)
        if view is None or view.id != body.get("view_id") or view.id in self.submitting:
            return {"ok": True}  # already gone: closing twice changes nothing
        await self._send("close", self.driver.close_view(user=user, view_id=view.id))
        return {"ok": True}

    async def command(self, body: Mapping[str, Any]) -> JSON:
        """A slash command typed in a conversation; the ack's own reply is the person's."""
        user = self.person(body.get("user"))
        channel, line = _conversation(self, body), body.get("text")
        if not isinstance(line, str) or not line.startswith("/"):
            raise Refused("a slash command starts with /", status=400)
        _check_length(line)
        name, _, text = line.replace("\n", " ", 1).partition(" ")
        if name not in COMMANDS:
            raise Refused(
                f"{name[:40]} is not a valid command here; try {', '.join(COMMANDS)}", status=400
            )
        response = await self._send(
            name, self.driver.command(name, text.strip(), user=user, channel=channel)
        )
        if response is not None and response.text:
            answer = _json_or_none(response.text)
            reply = answer if isinstance(answer, dict) else {"text": response.text}
            _show_ack(self, channel=channel, user=user, reply=reply)
        return {"ok": True}

    def post(self, body: Mapping[str, Any]) -> JSON:
        """Plain text from the composer: a message by the person (Handrail does not read it)."""
        user = self.person(body.get("user"))
        channel, text, thread_ts = (
            _conversation(self, body),
            body.get("text"),
            body.get("thread_ts"),
        )
        if not isinstance(text, str) or not text.strip():
            raise Refused("there is nothing to send", status=400)
        _check_length(text)
        message = self.emulator.post_as_user(
            channel, user, text, thread_ts=thread_ts if isinstance(thread_ts, str) else None
        )
        return {"ok": True, "ts": message.ts}


def _conversation(acting: Acting, body: Mapping[str, Any]) -> str:
    channel = body.get("channel")
    try:
        return str(acting.emulator.workspace.channel(channel).id)
    except SlackError:
        raise Refused(f"unknown conversation {channel!r}", status=400) from None


def _check_length(text: str) -> None:
    if len(text) > MESSAGE_TEXT_MAX:
        raise Refused(
            f"That is {len(text):,} characters; Slack takes at most {MESSAGE_TEXT_MAX:,}. "
            "Nothing was sent.",
            status=400,
        )


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _show_ack(acting: Acting, *, channel: str, user: str, reply: JSON) -> None:
    """A slash command's ack body: Slack shows it to the person (or the channel if asked)."""
    entry = ResponseUrl("ack", channel, user, None, time.time())
    try:
        apply_response(acting.emulator.workspace, entry, reply)
    except SlackError as error:
        raise Refused(f"Handrail's reply could not be shown: {error}", status=502) from None
