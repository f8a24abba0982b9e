"""One attempt at one claimed row: render, pace, look before re-posting, send.

Returns an outcome and writes nothing: the worker records it. Reads (the record to render,
the message a row refers to) go through read sessions, so on SQLite they never queue for
the write lock behind claims.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from functools import partial
from typing import Any

from bot.outbox.access import AccessProblems, is_access_problem
from bot.outbox.outcomes import Delivered, Failed, Later, Outcome, Retry
from bot.outbox.pacing import Pacer
from bot.outbox.settings import WorkerSettings
from bot.outbox.slack import CallFailed, Posted, SlackSender
from bot.outbox.webhook import WebhookSender
from bot.renderers.registry import Renderers, UnknownRenderer, Upload
from handlers.blocks import Message
from store.engine import Sessions
from store.models import OutboxMessage
from store.repositories import outbox as repo
from workflows.clock import Clock
from workflows.delivery import callbacks, outbox
from workflows.errors import HandrailError

log = logging.getLogger("handrail.outbox")


class Deliverer:
    """Knows how to send each kind of row; one instance per worker."""

    def __init__(
        self,
        *,
        readers: Sessions,
        renderers: Renderers,
        clock: Clock,
        settings: WorkerSettings,
        slack: SlackSender | None,
        webhooks: WebhookSender | None,
    ) -> None:
        self.readers = readers
        self.renderers = renderers
        self.clock = clock
        self.settings = settings
        self.slack = slack
        self.webhooks = webhooks
        self.pacer = Pacer(settings.pacing)
        self.access = AccessProblems(wait=settings.access_wait)
        self._dms: dict[str, str] = {}
        """User ID -> the DM conversation ID ``conversations.open`` gave."""

    def now(self) -> float:
        return self.clock().timestamp()

    async def attempt(self, row: OutboxMessage) -> Outcome:
        """Deliver ``row`` once; any unexpected error becomes a retry (bounded)."""
        if row.kind == outbox.WEBHOOK:
            return await self._webhook(row)
        if self.slack is None:
            return Later(self.now() + self.settings.poll_interval)
        if row.kind == outbox.SLACK_POST:
            return await self._post(row, self.slack)
        if row.kind == outbox.SLACK_UPDATE:
            return await self._update(row, self.slack)
        if row.kind == outbox.SLACK_UPLOAD:
            return await self._upload(row, self.slack)
        return Failed(f"unknown outbox kind {row.kind!r}")

    async def _acquire(self, channel: str | None) -> float | None:
        """The pacer's go (None) or when to come back; a slot less than ``lead`` seconds
        away is waited for here, the message already rendered, so it goes out on time."""
        now = self.now()
        ready = self.pacer.acquire(channel, now=now)
        if ready is not None and ready - now <= self.settings.lead:
            await asyncio.sleep(ready - now)
            ready = self.pacer.acquire(channel, now=self.now())
        return ready

    async def _render(self, payload: dict[str, Any]) -> Message | Failed:
        render, ref = str(payload.get("render")), str(payload.get("ref"))
        try:
            async with self.readers() as db:
                return await self.renderers.render(db, render, ref)
        except UnknownRenderer as error:
            return Failed(str(error))
        except HandrailError as error:
            return Failed(f"cannot render {render} {ref}: {error.message}")

    async def _render_upload(self, payload: dict[str, Any]) -> Upload | Failed:
        render, ref = str(payload.get("render")), str(payload.get("ref"))
        try:
            async with self.readers() as db:
                return await self.renderers.render_upload(db, render, ref)
        except UnknownRenderer as error:
            return Failed(str(error))
        except HandrailError as error:
            return Failed(f"cannot render {render} {ref}: {error.message}")

    async def _posted(self, key: str, *, role: str) -> Posted | Failed | Later:
        """Where the message queued under ``key`` went, or why there is none (yet)."""
        async with self.readers() as db:
            row = await repo.get_outbox_message(db, key)
        if row is None:
            return Failed(f"the {role} was never queued (outbox key {key})")
        if row.status == repo.FAILED:
            return Failed(f"the {role} was never posted (outbox key {key}): {row.last_error}")
        result = row.result or {}
        if row.status == repo.DONE and result.get("channel") and result.get("ts"):
            return Posted(str(result["channel"]), str(result["ts"]))
        if row.status == repo.DONE:
            return Failed(f"the {role} (outbox key {key}) has no channel and ts recorded")
        return Later(self.now() + self.settings.parent_wait)

    async def _conversation(self, target: str, slack: SlackSender) -> str | Outcome:
        """The conversation to post in: a person (``U…``/``W…``) is DMed through
        ``conversations.open``, so the post and the lookup after a lost answer use the
        ``D…`` ID whose history the bot may read."""
        if target[:1] not in ("U", "W"):
            return target
        if target not in self._dms:
            try:
                self._dms[target] = await slack.open_dm(target)
            except CallFailed as failed:
                return self._refused(failed.outcome, channel=target, doing="opening a DM")
        return self._dms[target]

    def _refused(self, outcome: Outcome, *, channel: str, doing: str) -> Outcome:
        """An access problem waits for its fix (reported once); anything else stands."""
        if isinstance(outcome, Failed) and is_access_problem(outcome):
            return self.access.wait_for_fix(outcome, channel=channel, doing=doing)
        if isinstance(outcome, Delivered):
            self.access.fixed(channel)
        return outcome

    async def _destination(
        self, payload: dict[str, Any], slack: SlackSender
    ) -> tuple[str, str | None] | Outcome:
        """The conversation to write to, and the thread (its parent's ts) when it replies."""
        conversation = await self._conversation(str(payload.get("channel")), slack)
        if not isinstance(conversation, str):
            return conversation
        thread_ts: str | None = None
        if payload.get("thread_of"):
            parent = await self._posted(str(payload["thread_of"]), role="message it replies to")
            if not isinstance(parent, Posted):
                return parent
            thread_ts = parent.ts
        return conversation, thread_ts

    def _paced(self, channel: str, *, sent: bool, outcome: Outcome | None) -> None:
        """Give the channel's turn back: unused, or used with what Slack answered (a rate
        limit's ``Retry-After`` holds the channel that long)."""
        if not sent:
            self.pacer.release(channel)
            return
        ratelimited = isinstance(outcome, Retry) and not outcome.counts
        after = outcome.after if isinstance(outcome, Retry) and ratelimited else None
        self.pacer.finish(channel, at=self.now(), retry_after=after)

    async def _post(self, row: OutboxMessage, slack: SlackSender) -> Outcome:
        payload = row.payload
        destination = await self._destination(payload, slack)
        if not isinstance(destination, tuple):
            return destination
        channel, thread_ts = destination
        message = await self._render(payload)
        if isinstance(message, Failed):
            return message
        wait = await self._acquire(channel)
        if wait is not None:
            return Later(wait)
        sent = False
        outcome: Outcome | None = None
        try:
            if (row.result or {}).get("maybe_sent"):
                found = await self._look_for(row, slack, channel=channel, thread_ts=thread_ts)
                if found is not None:
                    return found
            sent = True
            outcome = await slack.post(
                channel=channel,
                message=message,
                metadata=payload.get("metadata"),
                thread_ts=thread_ts,
            )
            return self._refused(outcome, channel=channel, doing="a post")
        finally:
            self._paced(channel, sent=sent, outcome=outcome)

    async def _upload(self, row: OutboxMessage, slack: SlackSender) -> Outcome:
        """Files shared as a message: drawn now, paced with the channel's posts, and after a
        lost answer looked for (by the marker in their names) before being sent again."""
        payload = row.payload
        destination = await self._destination(payload, slack)
        if not isinstance(destination, tuple):
            return destination
        channel, thread_ts = destination
        upload = await self._render_upload(payload)
        if isinstance(upload, Failed):
            return upload
        wait = await self._acquire(channel)
        if wait is not None:
            return Later(wait)
        marker = upload_marker(row.dedupe_key)
        sent = False
        outcome: Outcome | None = None
        try:
            if (row.result or {}).get("maybe_sent"):
                found = await self._look_for(
                    row, slack, channel=channel, thread_ts=thread_ts, marker=marker
                )
                if found is not None:
                    return found
            sent = True
            outcome = await slack.upload(
                channel=channel, upload=upload, marker=marker, thread_ts=thread_ts
            )
            if _not_member(outcome):
                outcome = await self._join_and_upload(
                    slack, channel=channel, upload=upload, marker=marker, thread_ts=thread_ts
                )
            return self._refused(outcome, channel=channel, doing="a file upload")
        finally:
            self._paced(channel, sent=sent, outcome=outcome)

    async def _join_and_upload(
        self,
        slack: SlackSender,
        *,
        channel: str,
        upload: Upload,
        marker: str,
        thread_ts: str | None,
    ) -> Outcome:
        """Files, unlike posts, need the bot in the channel even where ``chat:write.public``
        lets it post; a public channel is joined (``conversations.join``) and the upload
        tried again. Where joining is refused (a private channel), the first refusal stands
        and waits for someone to invite the bot."""
        try:
            await slack.join(channel)
        except CallFailed as failed:
            if isinstance(failed.outcome, Retry):
                return failed.outcome
            return Failed(
                f"not_in_channel from files.completeUploadExternal to {channel}, and "
                f"joining it failed: {failed.outcome.error}; invite the bot to {channel}",
                slack_error="not_in_channel",
            )
        return await slack.upload(
            channel=channel, upload=upload, marker=marker, thread_ts=thread_ts
        )

    async def _look_for(
        self,
        row: OutboxMessage,
        slack: SlackSender,
        *,
        channel: str,
        thread_ts: str | None,
        marker: str | None = None,
    ) -> Outcome | None:
        """After a lost answer: the message if Slack has it (done, not posted twice).

        A public channel the bot posted in without being a member (``chat:write.public``)
        cannot be read until it joins, so it joins (``conversations.join``) and looks
        again. When it still cannot look, the row waits and the problem is reported once
        with its fix: a message is never failed only because nobody could look.
        """
        oldest = row.created_at - self.settings.history_lookback
        look = partial(
            slack.find_posted,
            channel=channel,
            outbox_key=row.dedupe_key,
            thread_ts=thread_ts,
            oldest=oldest.timestamp(),
            marker=marker,
        )
        try:
            try:
                found = await look()
            except CallFailed as failed:
                if not _not_member(failed.outcome):
                    raise
                await slack.join(channel)
                found = await look()
        except CallFailed as failed:
            if isinstance(failed.outcome, Failed):
                unread = Failed(
                    f"cannot tell whether it was already posted: {failed.outcome.error}",
                    slack_error=failed.outcome.slack_error or "not_in_channel",
                    needed=failed.outcome.needed,
                )
                return self.access.wait_for_fix(
                    unread, channel=channel, doing="reading the channel after a lost answer"
                )
            return failed.outcome
        if found is None:
            return None
        log.info(
            "outbox #%s (%s) was already in %s at %s", row.id, row.workflow, found.channel, found.ts
        )
        return Delivered(found.as_result())

    async def _update(self, row: OutboxMessage, slack: SlackSender) -> Outcome:
        payload = row.payload
        posted = await self._posted(str(payload.get("message_key")), role="message to update")
        if not isinstance(posted, Posted):
            return posted
        message = await self._render(payload)
        if isinstance(message, Failed):
            return message
        wait = await self._acquire(None)
        if wait is not None:
            return Later(wait)
        outcome = await slack.update(posted=posted, message=message)
        return self._refused(outcome, channel=posted.channel, doing="an update")

    async def _webhook(self, row: OutboxMessage) -> Outcome:
        if self.webhooks is None:
            return Later(self.now() + self.settings.poll_interval)
        payload = row.payload
        body = await self._webhook_body(payload)
        if isinstance(body, Failed | Later):
            return body
        return await self.webhooks.send(
            url=str(payload.get("url")),
            workflow=str(payload.get("workflow") or row.workflow),
            body=body,
            idempotency_key=str(payload.get("idempotency_key") or row.dedupe_key),
            now=self.now(),
        )

    async def _webhook_body(self, payload: dict[str, Any]) -> Any:
        """The body to send: a handoff's outcome as it stands now, or the body queued.

        A row queued before bodies were built at send time may carry the "held" body of a
        decision made while paused; its handoff is read again so the decision goes out.
        """
        handoff_id = payload.get("handoff_id")
        queued = payload.get("body")
        if handoff_id is None and isinstance(queued, dict) and queued.get("status") == "held":
            handoff_id = queued.get("handoff_id")
        if handoff_id is None:
            return queued
        async with self.readers() as db:
            body = await callbacks.load_delivery(db, str(handoff_id))
        if body is None:
            return Failed(f"handoff {handoff_id} no longer exists (removed with its run); not sent")
        if body["status"] in callbacks.WAITING:
            return Later(self.now() + self.settings.poll_interval)
        return body


def upload_marker(dedupe_key: str) -> str:
    """What an upload's file names carry to be found again: the row's key, hashed short."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:12]


def _not_member(outcome: Outcome) -> bool:
    return isinstance(outcome, Failed) and outcome.slack_error == "not_in_channel"
