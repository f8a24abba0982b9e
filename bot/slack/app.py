"""The bolt app, and how it is served: ``POST /slack/events`` and, optionally, Socket Mode.

Built per call like everything in ``bot/`` (no module-level app or client). A middleware
puts the services (session factories, clock, config) and the usergroup directory into each
request's context; handlers open their own unit of work, because bolt runs them after
``ack()`` in a detached task that outlives any session a middleware could open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.api.errors import error_response
from bot.services import Services
from bot.settings import Settings
from bot.slack.directory import SlackMemberDirectory
from bot.slack.listener_tasks import ListenerTasks
from bot.slack.shape import MalformedRequest, check_shape
from handlers import actions, alert_actions, commands, errors, home, views
from handlers.context import DEPS_KEY, DIRECTORY_KEY, Deps
from workflows.bodies.json_values import replace_unstorable

log = logging.getLogger("handrail.slack")

SLACK_EVENTS_PATH = "/slack/events"
SLACK_APP = web.AppKey("slack_app", AsyncApp)


class SocketMode:
    """Slack over a WebSocket (``SLACK_APP_TOKEN``): no public URL needed.

    The handler is built when the app starts, not with the app: its aiohttp session needs
    the running loop, and ``build_app`` runs before ``web.run_app`` starts one.
    """

    def __init__(self, bolt: AsyncApp, app_token: str) -> None:
        self.bolt = bolt
        self.app_token = app_token
        self.handler: AsyncSocketModeHandler | None = None

    def build(self) -> AsyncSocketModeHandler:
        """The handler on the bolt app (and its Web API client); call inside the loop."""
        if self.handler is None:
            self.handler = AsyncSocketModeHandler(self.bolt, self.app_token)
        return self.handler

    async def connect(self) -> None:
        await self.build().connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it untyped
        log.info("Slack Socket Mode connected")

    async def close(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]  # bolt leaves it untyped
            self.handler = None


SOCKET_MODE = web.AppKey("socket_mode", SocketMode)


def aim_slack_client(client: AsyncWebClient, settings: Settings) -> AsyncWebClient:
    """Point the Web API client at ``SLACK_API_URL``, with no retry handlers.

    No retry handlers: a handler must answer within Slack's budget (a trigger_id lives three
    seconds), so a rate-limited call fails at once and the error handler says so; anything
    that may wait and retry goes through the outbox worker instead.
    """
    client.base_url = settings.slack_api_url
    client.retry_handlers = []
    return client


def build_slack_app(services: Services) -> AsyncApp:
    """The bolt app with Handrail's listeners, context middleware and error handler.

    Bolt is given the bot token and builds its Web API client from it, which is then aimed
    at ``SLACK_API_URL``. Handing bolt a ready client instead made it read
    ``SLACK_BOT_TOKEN`` from the environment as well and warn, at every start, that the
    token would be unused. ``process_before_response=False``: bolt answers Slack as soon
    as a listener calls ``ack()`` and lets the rest run on.
    """
    settings = services.settings
    token, secret = settings.slack_bot_token, settings.slack_signing_secret
    app = AsyncApp(
        name="handrail",
        token=token.get_secret_value() if token is not None else None,
        signing_secret=secret.get_secret_value() if secret is not None else "",
        process_before_response=False,
    )
    client = aim_slack_client(app.client, settings)
    directory = SlackMemberDirectory(client, clock=services.clock)
    deps: Deps = services  # checked here, once: handlers see Services only through Deps

    async def provide(context: dict[str, Any], next_: Callable[[], Awaitable[None]]) -> None:
        """Give every listener the services and the directory (factories, not sessions)."""
        context[DEPS_KEY] = deps
        context[DIRECTORY_KEY] = directory
        await next_()

    async def keep_storable(body: dict[str, Any], next_: Callable[[], Awaitable[None]]) -> None:
        """What people type follows the API's value rules: a NUL (or a lone surrogate, which
        no UTF-8 text holds) becomes U+FFFD before any listener reads it, so a pause reason
        or a reject reason never fails to be stored."""
        replace_unstorable(body)
        await next_()

    app.middleware(keep_storable)
    app.middleware(provide)
    errors.register(app)
    actions.register(app)
    views.register(app)
    alert_actions.register(app)
    commands.register(app)
    home.register(app)
    return app


def slack_events_handler(
    bolt: AsyncApp, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler for ``POST /slack/events``.

    The signature and its five-minute window are checked here, before bolt sees the
    request: bolt checks them too, but hands a malformed timestamp header to the error
    handler as an exception, which would answer the request and post to the
    ``response_url`` its unsigned body names. Anything not signed by Slack gets 401 and
    goes no further, so nothing is recorded, answered or fetched. A signed body of a shape
    Slack never sends gets 400 (``bot.slack.shape``), and so does a body that is not UTF-8,
    signed or not: Slack signs UTF-8 text, and slack_sdk cannot verify other bytes at all.
    """
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        try:
            # Bytes that are not UTF-8 cannot be verified (Slack signs its UTF-8 text), and
            # nothing is done with them either way.
            body = (await request.read()).decode()
        except UnicodeDecodeError:
            log.warning("malformed Slack request refused: the body is not UTF-8")
            return error_response(400, "malformed_slack_request", "the body is not UTF-8")
        if not _signed_by_slack(verifier, body, request.headers):
            return web.json_response({"error": "invalid_signature"}, status=401)
        try:
            check_shape(body, request.content_type)
        except MalformedRequest as malformed:
            log.warning("malformed Slack request refused: %s", malformed)
            return error_response(400, "malformed_slack_request", str(malformed))
        bolt_response: BoltResponse = await bolt.async_dispatch(await to_bolt_request(request))
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    return slack_events


def _signed_by_slack(verifier: SignatureVerifier, body: str, headers: Mapping[str, str]) -> bool:
    try:
        return verifier.is_valid_request(body, dict(headers))
    except ValueError:  # a timestamp header that is not a number
        return False


def mount_slack(app: web.Application, services: Services) -> AsyncApp:
    """Serve Slack's requests: over HTTP when a signing secret is set, and over Socket Mode
    when ``SLACK_APP_TOKEN`` is set (connected on start-up, closed on clean-up). Clean-up
    first lets the listeners still at work finish (``bot.slack.listener_tasks``)."""
    settings = services.settings
    bolt = build_slack_app(services)
    app[SLACK_APP] = bolt
    # Registered before the app's own clean-up, so listeners end before the engine closes.
    listeners = ListenerTasks()
    bolt.listener_runner.listener_start_handler = listeners
    app.on_cleanup.append(lambda _app: listeners.drain())
    if settings.slack_signing_secret:  # an empty secret is unset: it would verify nothing
        app.router.add_post(
            SLACK_EVENTS_PATH,
            slack_events_handler(bolt, settings.slack_signing_secret.get_secret_value()),
        )
    if settings.slack_app_token:
        socket_mode = SocketMode(bolt, settings.slack_app_token.get_secret_value())
        app[SOCKET_MODE] = socket_mode
        app.on_startup.append(lambda _app: socket_mode.connect())
        app.on_cleanup.append(lambda _app: socket_mode.close())
    return bolt
