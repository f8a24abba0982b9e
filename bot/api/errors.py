"""The one place API errors become JSON: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from store.busy import RETRY_AFTER_SECONDS, busy_message, is_store_busy
from workflows.errors import HandrailError
from workflows.identifiers import new_id

log = logging.getLogger("handrail.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The longest request target (path and query) served: aiohttp's own default limit.
REQUEST_TARGET_MAX = 8192
#: Where aiohttp's parser stops reading a request line (``handler_args``); up to here a
#: longer target gets the JSON 414 below, instead of aiohttp's plain-text 400.
REQUEST_LINE_READ_MAX = 1024 * 1024

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def json_response(
    data: Any, status: int = 200, *, headers: dict[str, str] | None = None
) -> web.Response:
    """Every JSON answer of the API, errors included, ending in a newline.

    The newline is for people reading with curl: without it the prompt ran on after the
    closing brace. JSON parsers take it as whitespace.
    """
    return web.Response(
        status=status,
        body=orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE),
        content_type="application/json",
        headers=headers,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return json_response(body, status, headers=headers)


def _location(loc: tuple[int | str, ...]) -> str:
    """``("events", 3, "type")`` → ``events[3].type``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


_JSON_POSITION = re.compile(r"at line (\d+) column (\d+)")


def _json_error_detail(message: str) -> dict[str, Any]:
    """Where the parser gave up, as numbers a client can point at."""
    detail: dict[str, Any] = {"loc": "body", "message": message, "type": "json_invalid"}
    position = _JSON_POSITION.search(message)
    if position:
        detail["line"], detail["column"] = int(position[1]), int(position[2])
    return detail


def validation_response(exc: ValidationError) -> web.Response:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    for error in errors:
        if error["type"] == "json_invalid":
            return error_response(
                400,
                "malformed_json",
                f"the body is not valid JSON: {error['msg']}",
                [_json_error_detail(error["msg"])],
            )
    details = [
        {"loc": _location(error["loc"]), "message": error["msg"], "type": error["type"]}
        for error in errors
    ]
    summary = "; ".join(f"{d['loc']}: {d['message']}" for d in details[:3])
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return error_response(422, "invalid_input", f"{summary}{more}", details)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON error; only the unexpected are logged as errors."""
    if len(request.raw_path) > REQUEST_TARGET_MAX:
        return error_response(
            414,
            "uri_too_long",
            f"the request target is {len(request.raw_path)} bytes long, over the "
            f"{REQUEST_TARGET_MAX} limit; send long values in a POST body",
        )
    try:
        return await handler(request)
    except HandrailError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except ValidationError as exc:
        return validation_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = exc.text or exc.reason
        if exc.status == 413:
            limit = request.app._client_max_size
            message = f"the body is larger than the {limit} byte limit; send smaller batches"
        elif exc.status == 404:
            message = f"no route {request.method} {request.path}"
        elif isinstance(exc, web.HTTPMethodNotAllowed):
            return _method_not_allowed(request, sorted(exc.allowed_methods))
        return error_response(exc.status, code, message)
    except ConnectionResetError:
        # The client went away before its body was read (it gave up waiting): nothing was
        # done, nobody is there to answer, and it is not Handrail's error.
        log.info("client closed the connection during %s %s", request.method, request.path)
        return error_response(400, "connection_lost", "the connection closed mid-request")
    except Exception as exc:
        if is_store_busy(exc):
            return _store_busy(request, exc)
        error_id = new_id("err")
        log.exception("unexpected error %s on %s %s", error_id, request.method, request.path)
        return error_response(
            500, "internal_error", f"unexpected error; quote {error_id} when reporting it"
        )


def _store_busy(request: web.Request, exc: BaseException) -> web.Response:
    """503 with ``Retry-After``: nothing was written, and the same request succeeds later."""
    reason = busy_message(exc)
    log.warning("busy: %s on %s %s; answered 503", reason, request.method, request.path)
    return error_response(
        503,
        "store_busy",
        f"Handrail is busy ({reason}); retry after {RETRY_AFTER_SECONDS} s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _method_not_allowed(request: web.Request, allowed: list[str]) -> web.Response:
    """405 names the methods the path takes, in the body and in ``Allow`` (RFC 9110)."""
    takes = ", ".join(allowed)
    return error_response(
        405,
        "method_not_allowed",
        f"{request.path} does not take {request.method}; it takes {takes}",
        [{"loc": "method", "method": request.method, "allowed": allowed}],
        headers={"Allow": takes},
    )
