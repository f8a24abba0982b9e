"""Identifiers: sortable by creation time, so listing by ID is listing by age."""

from __future__ import annotations

import re

from ulid import ULID

#: A client may choose its own run ID; it must be safe in a URL, a Slack message and a log.
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
RUN_ID = re.compile(RUN_ID_PATTERN)


def new_id(prefix: str) -> str:
    """A new time-sortable ID such as ``run_01JDZ3K6Q4J1P6Y5M2T8W9X0AB``."""
    return f"{prefix}_{ULID()}"
