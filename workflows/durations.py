"""Human durations in workflows.yml and the CLI: ``500ms``, ``30s``, ``15m``, ``2h``, ``90d``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Turn ``"15m"`` (or a number of seconds, or a timedelta) into a positive timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(
            f"{value!r} is not a duration; write a number and a unit, such as 30s, 15m, 2h or 7d"
        )
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest readable form: ``4 min 12 s``, ``2 h``, ``850 ms``."""
    total_ms = round(delta.total_seconds() * 1000)
    if total_ms < 1000:
        return f"{total_ms} ms"
    seconds = total_ms // 1000
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}")
    if total_ms < 10_000 and total_ms % 1000:
        return f"{total_ms / 1000:.1f} s"
    return " ".join(parts[:2])
