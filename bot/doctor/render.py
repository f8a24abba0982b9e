"""The checklist as text: one line per finding, its fix indented under it, a summary last."""

from __future__ import annotations

from collections.abc import Sequence

from bot.doctor.findings import Finding, Status

#: Fixed-width marks, so the checks line up whatever the status.
MARKS = {Status.OK: "ok     ", Status.WARNING: "warning", Status.PROBLEM: "problem"}


def render_checklist(findings: Sequence[Finding]) -> str:
    """Every finding in the order checked, then one line that counts what is wrong."""
    lines = []
    for finding in findings:
        lines.append(f"{MARKS[finding.status]}  {finding.check}: {finding.detail}")
        if finding.fix:
            lines.append(f"         fix: {finding.fix}")
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def summary(findings: Sequence[Finding]) -> str:
    problems = sum(f.status is Status.PROBLEM for f in findings)
    warnings = sum(f.status is Status.WARNING for f in findings)
    if not problems and not warnings:
        return f"all {len(findings)} checks passed"
    counted = [
        _count(problems, "problem"),
        _count(warnings, "warning"),
    ]
    return ", ".join(part for part in counted if part) + "; each has its fix above"


def log_line(finding: Finding) -> str:
    """One finding as a single log line (start-up writes warnings and problems this way)."""
    fix = f"; fix: {finding.fix}" if finding.fix else ""
    return f"doctor {finding.status}: {finding.check}: {finding.detail}{fix}"


def _count(number: int, noun: str) -> str:
    if not number:
        return ""
    return f"{number} {noun}" + ("" if number == 1 else "s")
