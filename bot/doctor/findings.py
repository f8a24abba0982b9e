"""What one check found: ok, a warning or a problem, and the one line that fixes it.

Every check returns findings rather than raising: a Slack that does not answer, a database
that refuses the connection or a callback receiver that is down are things the doctor
found, each worth a line of the checklist, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """How bad a finding is; only a problem makes ``handrail doctor`` exit 1."""

    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the checklist: what was checked, what was found, how to fix it."""

    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(check: str, detail: str) -> Finding:
    return Finding(check, Status.OK, detail)


def warning(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Status.WARNING, detail, fix)


def problem(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Status.PROBLEM, detail, fix)


def exit_status(findings: Iterable[Finding]) -> int:
    """1 when anything is wrong (a problem), else 0: warnings leave a deployment working."""
    return 1 if any(f.status is Status.PROBLEM for f in findings) else 0
