"""The one place where errors raised by Slack handlers become something a person sees.

* A ``HandrailError`` (not a reviewer, already decided, no such handoff, bad input) is
  expected: its message is written for the person and goes back as it is.
* Anything else is a bug or an outage: it is logged with a fresh error ID (and the handoff
  and run IDs when the handler knew them), and the person is given that error ID.

Where the answer goes depends on what was interrupted: a modal submission that has not been
acknowledged yet gets the message under one of its fields (``response_action="errors"``,
which keeps the modal open); a slash command that has not been acknowledged gets it as the
ephemeral reply body; a click (acknowledged before the work started) gets an ephemeral
message through its ``response_url``, or ``chat.postEphemeral`` when there is none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import HANDOFF_ID_KEY, HOME_NOTE_KEY, RUN_ID_KEY
from handlers.views import LOC_BLOCKS, MAIN_INPUT
from store.busy import is_store_busy
from workflows.errors import HandrailError
from workflows.identifiers import new_id

log = logging.getLogger("handrail.slack")

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
#: Slack shows at most this many characters of a modal field error.
FIELD_ERROR_MAX = 300


def describe(error: Exception, body: dict[str, Any], context: dict[str, Any]) -> str:
    """What the person is told; unexpected errors are logged here with a new error ID."""
    where = _where(body, context)
    if isinstance(error, HandrailError):
        log.info("slack %s refused (%s): %s%s", _kind(body), error.code, error.message, where)
        return error.message[:1].upper() + error.message[1:]
    if is_store_busy(error):
        log.warning("slack %s waited too long for the store%s: %s", _kind(body), where, error)
        return "Handrail is busy right now and did not record this. Please try again in a moment."
    error_id = new_id("err")
    log.error(
        "unexpected error %s handling slack %s%s: %s",
        error_id,
        _kind(body),
        where,
        f"{type(error).__name__}: {error}",
        exc_info=error,
    )
    return (
        f"Handrail hit an unexpected error (error ID `{error_id}`). Nothing more can be "
        "done from here: give this ID to your Handrail admin, who can find it in the log."
    )


async def handle_slack_error(
    error: Exception,
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Answer the person; return a response only when the request was not acknowledged."""
    text = describe(error, body, context)
    acknowledged = response is None
    if not acknowledged and body.get("type") == "view_submission":
        return modal_errors(body, error, text)
    if not acknowledged and body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    await tell(text, body=body, context=context, respond=respond, client=client)
    return None if acknowledged else BoltResponse(status=200, body="")


@asynccontextmanager
async def answered(
    *,
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
) -> AsyncIterator[None]:
    """Run a click's work after its ``ack()``; an error is answered here, not re-raised.

    Same mapping as ``@app.error``, called directly because of how bolt 1.30 runs a listener
    with ``process_before_response=False``: when the listener raises after ``ack()``, bolt
    puts ``ack.response`` back to ``None``, and if that happens before its next 10 ms check
    the HTTP answer to Slack is held for three seconds and then sent as 404 "unhandled
    request". A fast refusal (not a reviewer, no such handoff) hits exactly that.
    """
    try:
        yield
    except Exception as error:  # every error is answered; none may reach bolt's runner
        await handle_slack_error(error, body, context, respond, client, None)


def modal_errors(body: dict[str, Any], error: Exception, text: str) -> BoltResponse:
    """Keep the modal open with ``text`` under the field the error is about.

    Field errors are plain text, so ``<@U1>`` mentions are shown as ``@U1``.
    """
    view: dict[str, Any] = body.get("view") or {}
    block = _error_block(view, error)
    if block is None:
        log.warning("no input in modal %s to show an error under", view.get("callback_id"))
        return BoltResponse(status=200, body="")
    message = _MENTION.sub(r"@\1", text)[:FIELD_ERROR_MAX]
    return BoltResponse(status=200, body={"response_action": "errors", "errors": {block: message}})


async def tell(
    text: str,
    *,
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
) -> None:
    """Send ``text`` to the person only; failing to do so is logged, never raised.

    A click in the Home tab has no response_url or channel: the text is left in the
    context, and ``handlers.home`` shows it at the top of the tab it publishes next.
    """
    try:
        if (body.get("view") or {}).get("type") == "home" and not context.get("response_url"):
            context[HOME_NOTE_KEY] = text
            return
        if respond is not None and context.get("response_url"):
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        channel, user = context.get("channel_id"), context.get("user_id")
        if client is not None and channel and user:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        log.warning("could not tell the person (no response_url, channel or user): %s", text)
    except Exception:  # an error handler must not raise; the failure is in the log
        log.exception("could not send an ephemeral error message: %s", text)


def _error_block(view: dict[str, Any], error: Exception) -> str | None:
    """The input block to show the error under: the one its ``loc`` names, else the main one."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    if isinstance(error, HandrailError):
        for detail in error.details:
            named = LOC_BLOCKS.get(str(detail.get("loc")))
            if named is not None and named.value in inputs:
                return named.value
    main = MAIN_INPUT.get(str(view.get("callback_id")))
    if main is not None and main.value in inputs:
        return main.value
    return str(inputs[0]) if inputs and inputs[0] else None


def _kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"command {body['command']}"
    kind = str(body.get("type") or "request")
    actions = body.get("actions") or []
    if actions:
        return f"{kind} {actions[0].get('action_id')}"
    view = body.get("view") or {}
    return f"{kind} {view.get('callback_id')}" if view else kind


def _where(body: dict[str, Any], context: dict[str, Any]) -> str:
    parts = [f"user {context.get('user_id') or (body.get('user') or {}).get('id')}"]
    if context.get(HANDOFF_ID_KEY):
        parts.append(f"handoff {context[HANDOFF_ID_KEY]}")
    if context.get(RUN_ID_KEY):
        parts.append(f"run {context[RUN_ID_KEY]}")
    return " (" + ", ".join(parts) + ")"


def register(app: AsyncApp) -> None:
    """Install the one error handler of the Slack app."""
    app.error(handle_slack_error)
