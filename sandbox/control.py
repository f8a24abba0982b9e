"""The emulator's own HTTP API under ``/_emulator``: inspect, inject faults, reset.

The same controls as the Python methods, so a sandbox web UI (or a shell with curl) can make
Slack fail while a person watches Handrail cope. Bodies and answers are JSON; a bad request
answers 400 ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.emulator import SlackEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def snapshot(emulator: SlackEmulator) -> dict[str, Any]:
    """The seeded workspace and fault switches, JSON-able."""
    ws = emulator.workspace
    return {
        "identity": {**dataclasses.asdict(ws.identity), "url": ws.identity.url},
        "users": [dataclasses.asdict(u) for u in ws.users.values()],
        "channels": [
            {
                "id": c.id,
                "name": c.name,
                "members": sorted(ws.members(c)),
                "is_private": c.is_private,
                "is_im": c.is_im,
            }
            for c in ws.channels.values()
        ],
        "usergroups": ws.usergroups,
        "down": emulator.down,
        "faults": [i.to_json() for i in emulator.faults.injections],
    }


def _bad(error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=400)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text='{"ok": false, "error": "invalid_json"}') from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"ok": false, "error": "invalid_json"}')
    return body


def add_routes(app: web.Application, emulator: SlackEmulator) -> None:
    """Mount the control API on the emulator's app."""

    async def state(request: web.Request) -> web.Response:
        return web.json_response(snapshot(emulator))

    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method")
        chosen = emulator.calls_to(method) if method else emulator.calls
        return web.json_response([c.to_json() for c in chosen])

    async def clear_calls(request: web.Request) -> web.Response:
        emulator.clear_calls()
        return web.json_response({"ok": True})

    async def messages(request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        return web.json_response([m.to_json() for m in emulator.messages(channel)])

    async def ephemerals(request: web.Request) -> web.Response:
        return web.json_response([e.to_json() for e in emulator.ephemerals])

    async def responses(request: web.Request) -> web.Response:
        return web.json_response([r.to_json() for r in emulator.responses])

    async def views(request: web.Request) -> web.Response:
        return web.json_response([v.to_json() for v in emulator.views])

    async def faults(request: web.Request) -> web.Response:
        return web.json_response([i.to_json() for i in emulator.faults.injections])

    async def add_fault(request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            injection = emulator.inject(
                str(body["method"]),
                str(body["fault"]),
                times=body.get("times", 1),
                hold=body.get("hold"),
                retry_after=int(body.get("retry_after", 1)),
            )
        except KeyError as missing:
            return _bad(f"missing field {missing}")
        except (TypeError, ValueError) as error:
            return _bad(str(error))
        return web.json_response({"ok": True, "injection": injection.to_json()})

    async def clear_faults(request: web.Request) -> web.Response:
        emulator.clear_faults()
        return web.json_response({"ok": True})

    async def down(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body.get("down"), bool):
                return _bad('expected {"down": true|false}')
            emulator.down = body["down"]
        return web.json_response({"ok": True, "down": emulator.down})

    async def reset(request: web.Request) -> web.Response:
        emulator.reset()
        return web.json_response({"ok": True})

    async def release(request: web.Request) -> web.Response:
        emulator.release()
        return web.json_response({"ok": True})

    async def clock(request: web.Request) -> web.Response:
        body = await _json_body(request)
        advance = getattr(emulator.clock, "advance", None)
        if advance is None:
            return web.json_response({"ok": False, "error": "clock_not_manual"}, status=409)
        try:
            advance(seconds=float(body.get("advance", 0)))
        except (TypeError, ValueError) as error:
            return _bad(str(error))
        return web.json_response({"ok": True, "now": emulator.now()})

    async def trigger(request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = body.get("user")
        if not isinstance(user, str) or user not in emulator.workspace.users:
            return _bad("user_not_found")
        return web.json_response({"ok": True, "trigger_id": emulator.issue_trigger(user)})

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/_emulator/state", state),
        ("GET", "/_emulator/calls", calls),
        ("DELETE", "/_emulator/calls", clear_calls),
        ("GET", "/_emulator/messages/{channel}", messages),
        ("GET", "/_emulator/ephemerals", ephemerals),
        ("GET", "/_emulator/responses", responses),
        ("GET", "/_emulator/views", views),
        ("GET", "/_emulator/faults", faults),
        ("POST", "/_emulator/faults", add_fault),
        ("DELETE", "/_emulator/faults", clear_faults),
        ("GET", "/_emulator/down", down),
        ("POST", "/_emulator/down", down),
        ("POST", "/_emulator/reset", reset),
        ("POST", "/_emulator/release", release),
        ("POST", "/_emulator/clock", clock),
        ("POST", "/_emulator/triggers", trigger),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, handler)
