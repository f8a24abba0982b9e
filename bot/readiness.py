"""``/readyz``: whether this instance can do its work now, for a load balancer or Kubernetes.

``/healthz`` only says the process answers (liveness: restart it if not). Readiness asks the
database with a real query, bounded in time, and reports what is wrong in JSON with a 503,
so traffic goes elsewhere while the database is unreachable or its schema is behind.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.api.errors import json_response
from bot.services import SERVICES
from store.migrate import SchemaMismatch, check_schema

#: How long the database may take to answer before the instance counts as not ready.
READY_TIMEOUT_SECONDS = 3.0


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with services.engine.connect() as connection:
                revision = await check_schema(connection)
    except TimeoutError:
        return _not_ready(
            "unreachable", f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s"
        )
    except SchemaMismatch as mismatch:
        return _not_ready("schema_behind" if mismatch.behind else "schema_ahead", mismatch.message)
    except (SQLAlchemyError, OSError) as exc:
        return _not_ready("unreachable", f"the database cannot be queried: {_cause(exc)}")
    return json_response({"ready": True, "checks": {"database": {"ok": True, "schema": revision}}})


def _not_ready(problem: str, message: str) -> web.Response:
    return json_response(
        {
            "ready": False,
            "checks": {"database": {"ok": False, "problem": problem, "message": message}},
        },
        503,
    )


def _cause(exc: BaseException) -> str:
    """The driver's own words, first line only: no SQL, no parameters, no connection URL."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(original).splitlines() or [type(original).__name__])[0][:200]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/readyz", readyz)
