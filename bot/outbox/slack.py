"""Slack writes for the outbox: post, update, and "was it already posted?".

The client must have its retry handlers off (``AsyncWebClient(..., retry_handlers=[])``):
the worker alone decides when to try again, and a retry inside the client would either hide
a 429 from the pacer or post twice after a lost answer. Every Slack answer becomes an
outcome carrying Slack's full error, e.g. ``channel_not_found from chat.postMessage to
C0NOPE``, with ``response_metadata.messages`` when Slack gives them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.outbox.outcomes import Delivered, Failed, Outcome, Retry, retry_after_seconds
from bot.renderers.registry import Upload
from handlers.blocks import Message
from workflows.delivery.outbox import METADATA_EVENT_TYPE

#: Slack errors worth trying again; every other error code is final.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
     "request_timeout", "team_added_to_org"}
)  # fmt: skip
#: Transient errors after which Slack may nonetheless have stored the message.
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout"})
#: Final errors named in Slack's docs for the calls we make (any unknown code is final too).
HARD_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope",
     "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks",
     "invalid_blocks_format", "msg_too_long", "no_text", "message_not_found",
     "cant_update_message", "invalid_arguments", "invalid_metadata_format",
     "restricted_action", "thread_not_found"}
)  # fmt: skip

HISTORY_PAGE = 200
#: How slack_sdk's files_upload_v2 words a refused POST to the upload URL.
UPLOAD_REFUSED = "Failed to upload a file"

Call = Callable[[], Awaitable[AsyncSlackResponse]]


def _retry_after(response: AsyncSlackResponse) -> float:
    """Slack's ``Retry-After``; a 429 without a usable one waits a second."""
    value = response.headers.get("Retry-After") if response.headers else None
    seconds = retry_after_seconds(value)
    return 1.0 if seconds is None else seconds


#: How much of a body that is not JSON is kept in the recorded error.
BODY_EXCERPT = 200


def _excerpt(data: object) -> str:
    """A body that is not Slack's JSON, on one line and cut short, to say what came back."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT else text[: BODY_EXCERPT - 1] + "…"


def answer_outcome(response: AsyncSlackResponse, *, what: str) -> Retry | Failed:
    """The outcome of an answer that is not a success, whatever its body.

    Slack answers JSON, but a proxy or load balancer in front of it may answer text: the
    status then decides (a 429 still waits its ``Retry-After``), and the text is kept.
    """
    status = response.status_code
    data = response.data
    if status == 429:
        after = _retry_after(response)
        return Retry(f"ratelimited {what} (Retry-After {after:g} s)", after=after, counts=False)
    if not isinstance(data, dict):
        text = f"HTTP {status} with a non-JSON body ({_excerpt(data)}) {what}"
        return Failed(text) if 400 <= status < 500 else Retry(text, maybe_sent=True)
    code = str(data.get("error") or "unknown_error")
    if status >= 500:
        return Retry(f"HTTP {status} {code} {what}", maybe_sent=True)
    if code in TRANSIENT_ERRORS:
        return Retry(f"{code} {what}", maybe_sent=code in AMBIGUOUS_ERRORS)
    text = f"{code} {what}"
    messages = (data.get("response_metadata") or {}).get("messages")
    if messages:
        text += ": " + "; ".join(str(message) for message in messages)
    if code == "missing_scope":
        text += f" (needed {data.get('needed')}, granted {data.get('provided')})"
    return Failed(text, slack_error=code, needed=str(data.get("needed") or ""))


def unreadable_answer(error: AttributeError) -> AsyncSlackResponse | None:
    """The answer slack_sdk failed on: a 200 with a text body, which its ``validate()`` reads
    as a dict. None when the AttributeError came from anywhere else."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    response = trace.tb_frame.f_locals.get("self") if trace is not None else None
    if isinstance(response, AsyncSlackResponse) and not isinstance(response.data, dict):
        return response
    return None


def slack_outcome_of(error: BaseException, *, what: str, timeout: float) -> Retry | Failed:
    """Turn a failed call into an outcome; ``what`` says which call, e.g. ``from
    chat.postMessage to C0REVIEW``."""
    if isinstance(error, SlackApiError):
        return answer_outcome(error.response, what=what)
    if isinstance(error, AttributeError):
        response = unreadable_answer(error)
        if response is not None:
            return answer_outcome(response, what=what)
    if isinstance(error, TimeoutError):
        return Retry(f"timeout after {timeout:g} s {what}", maybe_sent=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        return Retry(f"cannot connect to Slack ({error}) {what}")
    if isinstance(error, aiohttp.ClientError):
        return Retry(f"{type(error).__name__}: {error} {what}", maybe_sent=True)
    if isinstance(error, SlackRequestError) and str(error).startswith(UPLOAD_REFUSED):
        # files_upload_v2's POST of the bytes was refused (an upload URL used or expired):
        # nothing was shared, and the next attempt asks for a fresh URL.
        return Retry(f"{error} {what}")
    if isinstance(error, SlackClientError):
        return Failed(f"{type(error).__name__}: {error} {what}")
    raise error


class CallFailed(Exception):
    """A Slack call did not succeed; ``outcome`` says what the row should do."""

    def __init__(self, outcome: Retry | Failed) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message is: what ``slack.post`` rows keep in ``result``."""

    channel: str
    ts: str

    def as_result(self) -> dict[str, Any]:
        return {"channel": self.channel, "ts": self.ts}


class SlackSender:
    """The Slack calls of the outbox, each bounded by ``timeout`` seconds."""

    def __init__(self, client: AsyncWebClient, *, timeout: float, history_pages: int) -> None:
        self.client = client
        self.timeout = timeout
        self.history_pages = history_pages

    async def _call(self, call: Call, *, what: str) -> AsyncSlackResponse:
        """Run ``call`` under our own deadline (a shared aiohttp session ignores the
        client's), raising CallFailed with the outcome of any failure."""
        try:
            async with asyncio.timeout(self.timeout):
                return await call()
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
            raise CallFailed(slack_outcome_of(error, what=what, timeout=self.timeout)) from error
        except AttributeError as error:  # slack_sdk on a 200 whose body is text
            if unreadable_answer(error) is None:
                raise
            raise CallFailed(slack_outcome_of(error, what=what, timeout=self.timeout)) from error

    async def post(
        self,
        *,
        channel: str,
        message: Message,
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
    ) -> Outcome:
        """``chat.postMessage``; on success the result is ``{"channel", "ts"}``."""
        kwargs: dict[str, Any] = {"channel": channel, **message.as_kwargs()}
        if metadata is not None:
            kwargs["metadata"] = metadata
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        try:
            response = await self._call(
                partial(self.client.chat_postMessage, **kwargs),
                what=f"from chat.postMessage to {channel}",
            )
        except CallFailed as failed:
            return failed.outcome
        return Delivered(Posted(str(response["channel"]), str(response["ts"])).as_result())

    async def update(self, *, posted: Posted, message: Message) -> Outcome:
        """``chat.update`` in place; the same render twice is harmless, so no lookup."""
        try:
            await self._call(
                partial(
                    self.client.chat_update,
                    channel=posted.channel,
                    ts=posted.ts,
                    **message.as_kwargs(),
                ),
                what=f"from chat.update of {posted.ts} in {posted.channel}",
            )
        except CallFailed as failed:
            return failed.outcome
        return Delivered(posted.as_result())

    async def upload(
        self, *, channel: str, upload: Upload, marker: str, thread_ts: str | None
    ) -> Outcome:
        """Share ``upload``'s files in one message through Slack's external upload
        (``files.getUploadURLExternal``, the bytes, ``files.completeUploadExternal``, all
        inside slack_sdk's ``files_upload_v2``). Each file name carries ``marker``, which
        ``find_posted`` looks for after a lost answer; the result is ``{"channel", "files"}``.
        """
        kwargs: dict[str, Any] = {
            "channel": channel,
            "file_uploads": [
                {
                    "file": item.data,
                    "filename": f"{item.name}-{marker}.png",
                    "title": item.title,
                    "alt_txt": item.alt,
                }
                for item in upload.files
            ],
            "initial_comment": upload.comment,
        }
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        try:
            response = await self._call(
                partial(self.client.files_upload_v2, **kwargs),
                what=f"from the file upload (files_upload_v2) to {channel}",
            )
        except CallFailed as failed:
            return failed.outcome
        shared = [str(f.get("id")) for f in response.get("files") or []]
        return Delivered({"channel": channel, "files": shared})

    async def open_dm(self, user: str) -> str:
        """The DM conversation (``D…``) with ``user``, by ``conversations.open``: the ID
        whose history the "already posted?" lookup may read (a user ID's is not)."""
        response = await self._call(
            partial(self.client.conversations_open, users=user),
            what=f"from conversations.open with {user}",
        )
        return str((response.get("channel") or {}).get("id"))

    async def join(self, channel: str) -> None:
        """``conversations.join``: become a member of a public channel, to read it."""
        await self._call(
            partial(self.client.conversations_join, channel=channel),
            what=f"from conversations.join of {channel}",
        )

    async def find_posted(
        self,
        *,
        channel: str,
        outbox_key: str,
        thread_ts: str | None,
        oldest: float,
        marker: str | None = None,
    ) -> Posted | None:
        """Our message carrying ``outbox_key`` in its metadata (or, with ``marker``, sharing
        a file whose name carries it: file shares have no metadata), posted since ``oldest``.

        Reads at most ``history_pages`` pages of the channel (or of the thread for a
        reply), newest first; raises CallFailed when Slack cannot be asked.
        """
        cursor: str | None = None
        method = "conversations.history" if thread_ts is None else "conversations.replies"
        for _ in range(self.history_pages):
            kwargs: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{oldest:.6f}",
                "limit": HISTORY_PAGE,
                "include_all_metadata": True,
            }
            if cursor:
                kwargs["cursor"] = cursor
            call: Call = (
                partial(self.client.conversations_history, **kwargs)
                if thread_ts is None
                else partial(self.client.conversations_replies, ts=thread_ts, **kwargs)
            )
            response = await self._call(call, what=f"from {method} of {channel}")
            for found in response.get("messages") or []:
                if _carries(found, outbox_key) or (marker and _shares(found, marker)):
                    return Posted(channel, str(found["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None


def _carries(message: dict[str, Any], outbox_key: str) -> bool:
    metadata = message.get("metadata") or {}
    return (
        metadata.get("event_type") == METADATA_EVENT_TYPE
        and (metadata.get("event_payload") or {}).get("outbox_key") == outbox_key
    )


def _shares(message: dict[str, Any], marker: str) -> bool:
    return any(f"-{marker}." in str(f.get("name", "")) for f in message.get("files") or [])
