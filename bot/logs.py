"""Logging for every Handrail process: text or JSON lines, a level, and an access log.

``HANDRAIL_LOG_FORMAT=json`` writes one JSON object per line (``time``, ``level``,
``logger``, ``message`` and any ``extra=`` fields such as ``run_id``), which log shippers
read without a parsing rule. The access log names the method, the path without its query
string, the status and the duration; never a query string or a header, since either can
carry a token.
"""

from __future__ import annotations

import logging
import sys

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from pythonjsonlogger.json import JsonFormatter

#: The access log's logger; one line per HTTP request, at INFO.
ACCESS = logging.getLogger("handrail.access")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    """Send every record to stderr in the chosen form; called in every process, since
    ``serve --workers`` starts its extra processes fresh (spawn), not as copies of this one."""
    handler = _StderrHandler()
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601 in UTC, with microseconds
        )
        if json_lines
        else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)  # configured again (tests call the CLI in-process)
    root.addHandler(handler)
    root.setLevel(level)
    # Their INFO lines narrate every job registration and migration check; keep warnings.
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes, not as it was at set-up."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log as one record per request, with the fields as ``extra``."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        # ``request.path`` has no query string: ``?token=…`` must never reach a log.
        duration_ms = round(time * 1000, 2)
        self.logger.info(
            "%s %s %d %.1f ms",
            request.method,
            request.path,
            response.status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": duration_ms,
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
