"""IDs in a request's path that no row could have are unknown IDs, before any store sees them.

PostgreSQL refuses a NUL in a query parameter outright (SQLite just finds nothing), so
``GET /api/v1/runs/%00`` used to be a 500 on one store and a 404 on the other. Every ID
Handrail hands out is printable and fits its column, so a path parameter with a control
character, or longer than the column it is looked up in, names nothing: it is answered with
the same 404 as an unknown ID, naming the parameter, on every route at once. As with a path
that matches no route, that answer comes before the credential is checked; it says nothing
about what exists.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import String

from bot.api.errors import Handler
from store.models import Handoff, ParkedJob, Run, Workflow
from workflows.errors import NotFound


@dataclass(frozen=True, slots=True)
class PathId:
    """What a path parameter names, where its 404 points, and the column it is read from."""

    noun: str
    loc: str
    max_length: int | None


def _length(column: object) -> int | None:
    return column.length if isinstance(column, String) else None


PATH_IDS = {
    "run_id": PathId("run", "run_id", _length(Run.__table__.c.id.type)),
    "handoff_id": PathId("handoff", "handoff_id", _length(Handoff.__table__.c.id.type)),
    "parked_id": PathId("parked job", "parked_id", _length(ParkedJob.__table__.c.id.type)),
    "name": PathId("workflow", "workflow", _length(Workflow.__table__.c.name.type)),
}


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in value)


def check_path_id(parameter: str, value: str) -> None:
    """Raise the unknown-ID ``NotFound`` when ``value`` could never be a stored ID."""
    known = PATH_IDS.get(parameter, PathId(parameter, parameter, None))
    if _has_control_character(value):
        why = "it holds a control character, which no ID has"
    elif known.max_length is not None and len(value) > known.max_length:
        why = f"it is {len(value)} characters long, and no ID is over {known.max_length}"
    else:
        return
    raise NotFound(f"no {known.noun} with that {known.loc}: {why}", details=[{"loc": known.loc}])


@web.middleware
async def path_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 404 for a path ID no row could have (see the module docstring)."""
    for parameter, value in request.match_info.items():
        check_path_id(parameter, value)
    return await handler(request)
