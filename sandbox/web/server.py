"""The local Slack page: static files, the person's workspace state, a change stream, actions.

Routes (all JSON unless said):
- ``GET /`` and ``/static/…``: the page (no build step: plain ES modules).
- ``GET /api/people``: who the page may act as, with their roles.
- ``GET /api/state?user=U…``: what that person sees now (``sandbox.web.state``).
- ``GET /api/stream?user=U…``: Server-Sent Events of every change they may see.
- ``POST /api/click|submit|close|command|post``: what they do (``sandbox.web.acting``).
- ``GET /files/F…``: the bytes of a file the bot shared (an upload that was completed into
  a conversation); what is still private or never completed is 404, as nobody sees it.

Every refusal is ``{"ok": false, "error": "<what to do>"}`` with a 4xx/5xx status, so the
page can show it to the person who acted. Writes must be JSON from this page's own origin,
so another site open in the browser cannot act as someone through it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.driver import SlackDriver
from sandbox.web.acting import Acting, Refused
from sandbox.web.seed import Seed
from sandbox.web.state import JSON, user_state
from sandbox.web.stream import Hub

STATIC = Path(__file__).parent / "static"
MAX_REQUEST_BYTES = 256 * 1024
HUB = web.AppKey("hub", Hub)

Action = Callable[[dict[str, Any]], Awaitable[JSON] | JSON]


def _refusal(message: str, status: int) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _same_origin(request: web.Request) -> bool:
    """A write from this page: its Origin (when sent) is this server."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


def build_page_app(*, driver: SlackDriver, seed: Seed) -> web.Application:
    """The page server for the emulator ``driver`` talks to, showing ``seed``'s people."""
    emulator = driver.emulator
    acting = Acting(driver)
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    hub = Hub(emulator)
    app[HUB] = hub

    async def close_streams(_app: web.Application) -> None:
        hub.close()

    app.on_shutdown.append(close_streams)

    def person(request: web.Request) -> str:
        user = request.query.get("user", "")
        if user not in emulator.workspace.users:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error": f"unknown user {user!r}"}),
                content_type="application/json",
            )
        return user

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def people(request: web.Request) -> web.Response:
        return web.json_response([person.to_json() for person in seed.people.values()])

    async def state(request: web.Request) -> web.Response:
        return web.json_response(user_state(emulator, seed, person(request)))

    async def stream(request: web.Request) -> web.StreamResponse:
        return await hub.stream(request, person(request))

    def action(act: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            if request.content_type != "application/json" or not _same_origin(request):
                return _refusal("send JSON from the sandbox page itself", 415)
            try:
                body = json.loads(await request.text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _refusal("the body is not JSON", 400)
            if not isinstance(body, dict):
                return _refusal("the body must be a JSON object", 400)
            try:
                result = act(body)
                answer = await result if isinstance(result, Awaitable) else result
            except Refused as refusal:
                return _refusal(refusal.message, refusal.status)
            return web.json_response(answer)

        return handle

    async def shared_file(request: web.Request) -> web.Response:
        found = emulator.workspace.files.get(request.match_info["file_id"])
        if found is None or not found.completed or not found.channels or found.data is None:
            raise web.HTTPNotFound(text="no such shared file")
        mimetype = found.to_slack()["mimetype"] or "application/octet-stream"
        return web.Response(
            body=found.data,
            content_type=mimetype,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    app.router.add_get("/", index)
    app.router.add_get("/files/{file_id}", shared_file)
    app.router.add_get("/api/people", people)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/stream", stream)
    app.router.add_post("/api/click", action(acting.click))
    app.router.add_post("/api/home", action(acting.home))
    app.router.add_post("/api/submit", action(acting.submit))
    app.router.add_post("/api/close", action(acting.close))
    app.router.add_post("/api/command", action(acting.command))
    app.router.add_post("/api/post", action(acting.post))
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
