"""A local Slack: the Web API over real HTTP, as slack_sdk expects it, with faults on demand.

Handrail's tests (and the local sandbox) point ``SLACK_API_URL`` at ``emulator.api_url`` and
talk to it with the real ``AsyncWebClient``; the emulator records every call so tests assert
on what reached "Slack", and can make Slack slow, down, rate-limited or forgetful on cue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from types import TracebackType

from aiohttp import web

from sandbox import control
from sandbox.clock import Clock, seconds
from sandbox.faults import TEXT_ANSWER, Fault, FaultPlan, Injection
from sandbox.models import (
    JSON,
    Call,
    Channel,
    Ephemeral,
    Identity,
    Message,
    ResponsePost,
    SharedFile,
    User,
    View,
)
from sandbox.ratelimit import RateLimiter
from sandbox.scopes import METHOD_SCOPES, manifest_home_tab, manifest_scopes
from sandbox.webapi import METHODS, read_args
from sandbox.webapi_chat import apply_response
from sandbox.webapi_files import receive_upload
from sandbox.workspace import DEFAULT_TOKEN, TRIGGER_TTL, SlackError, Workspace

_FAULT_ERRORS = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


def _error_body(error: SlackError) -> JSON:
    body: JSON = {"ok": False, "error": error.error, **error.fields}
    if error.messages:
        body["response_metadata"] = {"messages": error.messages}
    return body


def _granted(*, strict: bool, scopes: Iterable[str] | None) -> frozenset[str] | None:
    if scopes is not None:
        return frozenset(scopes)
    return manifest_scopes() if strict else None


class SlackEmulator:
    """The fake Slack. Build it with keyword seeds, ``await start()``, pass ``api_url`` on."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        identity: Identity | None = None,
        users: Mapping[str, str] | Iterable[User] | None = None,
        channels: Mapping[str, str] | Iterable[Channel] | None = None,
        usergroups: Mapping[str, Iterable[str]] | None = None,
        clock: Clock = time.time,
        post_rate: float | None = 1.0,
        post_burst: int = 5,
        workspace_rate: float | None = None,
        workspace_burst: int = 20,
        random_429: float = 0.0,
        seed: int | None = 0,
        chat_write_public: bool = True,
        not_member_error: str = "not_in_channel",
        trigger_ttl: float = TRIGGER_TTL,
        timeout_hold: float | None = None,
        strict: bool = True,
        scopes: Iterable[str] | None = None,
    ) -> None:
        """``strict`` (the default) gives the token only ``scopes`` (by default those of
        the nearest ``manifest.yml``), as Slack does; ``strict=False`` grants every scope."""
        self.clock = clock
        self.now = seconds(clock)
        self.workspace = Workspace(
            clock=self.now,
            identity=identity or Identity(),
            tokens=tokens,
            users=users,
            channels=channels,
            usergroups=usergroups,
            chat_write_public=chat_write_public,
            not_member_error=not_member_error,
            trigger_ttl=trigger_ttl,
            scopes=_granted(strict=strict, scopes=scopes),
        )
        if strict and scopes is None:  # installed from the nearest manifest.yml, as a whole
            self.workspace.home_tab_enabled = manifest_home_tab()
        self.limiter = RateLimiter(
            clock=self.now,
            post_rate=post_rate,
            post_burst=post_burst,
            workspace_rate=workspace_rate,
            workspace_burst=workspace_burst,
            random_429=random_429,
            seed=seed,
        )
        self.faults = FaultPlan()
        self.timeout_hold = timeout_hold
        self._calls: list[Call] = []
        self._responses: list[ResponsePost] = []
        self._release = asyncio.Event()
        self._stopped = False
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self._handle_api)
        self.app.router.add_post("/response/{url_id}", self._handle_response_url)
        self.app.router.add_post("/upload/{upload_id}", self._handle_upload)
        control.add_routes(self.app, self)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SlackEmulator:
        """Serve on ``host:port`` (port 0: any free port); ``url`` tells where."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already started")
        self._stopped = False
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        self.workspace.upload_base = self._url
        return self

    async def stop(self) -> None:
        """Release held responses and stop serving."""
        self._stopped = True
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:51234`` (after ``start()``)."""
        if self._url is None:
            raise RuntimeError("the emulator is not started: await emulator.start() first")
        return self._url

    @property
    def api_url(self) -> str:
        """The Web API base URL with its trailing slash: slack_sdk's ``base_url``."""
        return f"{self.url}/api/"

    # --- recordings and state ------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every Web API call and response_url post, in arrival order."""
        return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self._calls if call.method == method]

    def messages(self, channel: str) -> list[Message]:
        """The channel's messages as they stand now, oldest first, thread replies included."""
        return list(self.workspace.history.get(channel, []))

    def message(self, channel: str, ts: str) -> Message:
        """One stored message; LookupError if there is none."""
        try:
            return self.workspace.find_message(channel, ts)
        except SlackError:
            raise LookupError(f"no message {ts} in {channel}") from None

    @property
    def ephemerals(self) -> list[Ephemeral]:
        return list(self.workspace.ephemerals)

    @property
    def responses(self) -> list[ResponsePost]:
        return list(self._responses)

    @property
    def views(self) -> list[View]:
        """Every view opened or pushed, in order, with its current content."""
        return list(self.workspace.views.values())

    def view(self, view_id: str) -> View:
        try:
            return self.workspace.views[view_id]
        except KeyError:
            raise LookupError(f"no view {view_id}") from None

    @property
    def files(self) -> list[SharedFile]:
        """Every file an upload was started for, in order; ``completed`` says if it was
        shared (or made private) and ``data`` holds the bytes that arrived."""
        return list(self.workspace.files.values())

    def reset(self) -> None:
        """Back to the seed: no messages, views, calls, faults; rate buckets full."""
        self.workspace.reset()
        self.limiter.reset()
        self.faults.clear()
        self._calls.clear()
        self._responses.clear()

    def clear_calls(self) -> None:
        """Forget the recorded calls and response posts; keep the workspace state."""
        self._calls.clear()
        self._responses.clear()

    def post_as_user(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Seed a message written by a person (the bot may not update it)."""
        self.workspace.user(user)
        target = self.workspace.channel(channel)
        message = Message(target.id, self.workspace.next_ts(), text, user=user, thread_ts=thread_ts)
        return self.workspace.add_message(message)

    def invite(self, channel: str, user: str | None = None) -> None:
        """Add ``user`` (by default the bot) to ``channel``, as ``/invite`` does."""
        target = self.workspace.channel(channel)
        who = user or self.workspace.identity.bot_user_id
        if target.members is None:
            target.members = self.workspace.members(target)
        target.members.add(who)

    def deactivate(self, user: str) -> None:
        """Deactivate ``user``: the ID stays known, a DM with them is ``user_disabled``."""
        self.workspace.user(user).deleted = True

    def archive(self, channel: str) -> None:
        """Archive ``channel``: posts to it answer ``is_archived`` from now on."""
        self.workspace.channel(channel).is_archived = True

    def unarchive(self, channel: str) -> None:
        """Unarchive ``channel``, as a person does in its settings: posts go through again."""
        self.workspace.channel(channel).is_archived = False

    def create_channel(self, channel: Channel) -> None:
        """Add ``channel`` to the workspace, as a person creating it does."""
        self.workspace.channels[channel.id] = channel
        self.workspace.history.setdefault(channel.id, [])

    # --- what the driver hands out -------------------------------------------------------

    def issue_trigger(self, user: str) -> str:
        """A fresh trigger_id for ``user``, valid for ``trigger_ttl`` seconds of the clock."""
        return self.workspace.issue_trigger(user)

    def issue_response_url(self, *, channel: str, user: str, message_ts: str | None) -> str:
        """A response_url on this emulator, tied to the channel and (optional) message."""
        url_id = self.workspace.issue_response_url(
            channel=channel, user=user, message_ts=message_ts
        )
        return f"{self.url}/response/{url_id}"

    # --- faults --------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        fault: str,
        *,
        times: int | None = 1,
        hold: float | None = None,
        retry_after: int = 1,
    ) -> Injection:
        """Arm ``fault`` (see ``sandbox.faults``) for the next ``times`` calls to ``method``."""
        return self.faults.inject(method, fault, times=times, hold=hold, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def down(self) -> bool:
        """While True every Web API call and response_url post answers HTTP 503."""
        return self.faults.down

    @down.setter
    def down(self, value: bool) -> None:
        self.faults.down = value

    def release(self) -> None:
        """Let every currently held (``timeout``/``slow``) response go now."""
        self._release.set()
        self._release = asyncio.Event()

    async def _take_fault(self, method: str, call: Call) -> Fault | None:
        """The fault this call meets; a ``slow`` one is served here (held, then no fault)."""
        fault = self.faults.take(method)
        if fault is not None and fault.kind == "slow":
            call.fault = fault.name
            await self._hold(fault)
            return None
        return fault

    async def _hold(self, fault: Fault) -> None:
        hold = fault.hold if fault.hold is not None else self.timeout_hold
        if self._stopped:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), hold)

    # --- HTTP ----------------------------------------------------------------------------

    def _answer(
        self, call: Call, status: int, body: JSON, *, retry_after: int | None = None
    ) -> web.Response:
        call.status, call.response = status, body
        call.ok, call.error = body.get("ok"), body.get("error")
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        granted = self.workspace.scopes
        if granted is not None and call.token in self.workspace.tokens:
            # Slack names the token's scopes on every answer to it, errors included.
            headers["X-OAuth-Scopes"] = ",".join(sorted(granted))
        return web.json_response(body, status=status, headers=headers)

    def _answer_text(self, call: Call, fault: Fault) -> web.Response:
        """A ``_text`` fault: its status with a plain-text body, as a proxy answers."""
        call.status, call.response, call.ok = fault.status, {"text": TEXT_ANSWER}, False
        headers = {"Retry-After": str(fault.retry_after)} if fault.kind == "ratelimited" else None
        return web.Response(
            status=fault.status, text=TEXT_ANSWER, content_type="text/plain", headers=headers
        )

    async def _fault_response(self, call: Call, fault: Fault) -> web.Response:
        call.fault = fault.name
        if fault.kind == "timeout":
            await self._hold(fault)
        if fault.text_body:
            return self._answer_text(call, fault)
        if fault.kind == "ratelimited":
            body: JSON = {"ok": False, "error": "ratelimited"}
            return self._answer(call, 429, body, retry_after=fault.retry_after)
        if fault.is_slack_error:
            return self._answer(call, 200, {"ok": False, "error": fault.kind})
        return self._answer(call, fault.status, {"ok": False, "error": _FAULT_ERRORS[fault.status]})

    def _run(self, method: str, call: Call) -> tuple[int, JSON, int | None]:
        """Authenticate, rate-limit and execute one call: (status, body, Retry-After)."""
        try:
            if method not in METHODS:
                raise SlackError("unknown_method")
            if call.token is None:
                raise SlackError("not_authed")
            if call.token not in self.workspace.tokens:
                raise SlackError("invalid_auth")
            self.workspace.require_scopes(METHOD_SCOPES.get(method, frozenset()))
            channel = call.body.get("channel")
            wait = self.limiter.check(method, channel if isinstance(channel, str) else None)
            if wait is not None:
                return 429, {"ok": False, "error": "ratelimited"}, wait
            return 200, {"ok": True, **METHODS[method](self.workspace, call.body)}, None
        except SlackError as error:
            return 200, _error_body(error), None

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, None, self.now(), request.method)
        self._calls.append(call)
        bad_request: SlackError | None = None
        try:
            call.body, call.token = await read_args(request)
        except SlackError as error:
            bad_request = error
        fault = await self._take_fault(method, call)
        if fault is not None and not fault.after_accept:
            return await self._fault_response(call, fault)
        if bad_request is not None:
            status, body, retry_after = 200, _error_body(bad_request), None
        else:
            status, body, retry_after = self._run(method, call)
        if fault is not None:
            return await self._fault_response(call, fault)
        return self._answer(call, status, body, retry_after=retry_after)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        call = Call("response_url", {}, None, self.now(), request.method)
        self._calls.append(call)
        fault = await self._take_fault("response_url", call)
        if fault is not None and not fault.after_accept:
            return await self._fault_response(call, fault)
        status, effect = 400, "rejected"
        try:
            try:
                call.body = json.loads(await request.text())
            except json.JSONDecodeError:
                raise SlackError("invalid_payload") from None
            if not isinstance(call.body, dict):
                raise SlackError("invalid_payload")
            status = 404  # unknown, expired or used up
            entry = self.workspace.use_response_url(url_id)
            status = 400  # content Slack would refuse
            effect = apply_response(self.workspace, entry, call.body)
            status, body = 200, {"ok": True}
        except SlackError as error:
            body = _error_body(error)
        known = self.workspace.response_urls.get(url_id)
        if known is not None:
            self._responses.append(
                ResponsePost(
                    url_id,
                    call.body,
                    call.time,
                    known.channel,
                    known.user,
                    known.message_ts,
                    status,
                    effect,
                )
            )
        if fault is not None:
            return await self._fault_response(call, fault)
        return self._answer(call, status, body)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The upload URL ``files.getUploadURLExternal`` gave: raw bytes, or a multipart
        form whose file part holds them (Slack takes either)."""
        upload_id = request.match_info["upload_id"]
        call = Call("upload", {"upload_id": upload_id}, None, self.now(), request.method)
        self._calls.append(call)
        fault = await self._take_fault("upload", call)
        if fault is not None and not fault.after_accept:
            return await self._fault_response(call, fault)
        data = await _upload_bytes(request)
        status, text = receive_upload(self.workspace, upload_id, data)
        call.body["bytes"] = len(data)
        call.status, call.ok = status, status == 200
        call.response = {"text": text}
        if fault is not None:
            return await self._fault_response(call, fault)
        return web.Response(status=status, text=text, content_type="text/plain")


async def _upload_bytes(request: web.Request) -> bytes:
    if request.content_type == "multipart/form-data":
        form = await request.post()
        for value in form.values():
            if isinstance(value, web.FileField):
                return bytes(value.file.read())
        return b""
    return await request.read()
