"""What a new prompt version did: its wrong rate and review time beside the version before.

The weekly review lists each version first seen that week next to the version first seen
just before it, over the same window, each figure with its n; with too few decisions on
either side the rate says "not enough data" rather than a change nobody can trust.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.stats.evidence import Rate
from workflows.stats.figures import SliceFigures
from workflows.stats.report import StatsReport


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionEffect:
    version: str
    previous: str | None
    wrong_before: Rate | None
    wrong_after: Rate
    review_p50_before_ms: int | None
    review_p50_after_ms: int | None
    note: str | None
    """Why the version was made, from its prompt note; None when unexplained."""


def version_effects(report: StatsReport, new_versions: list[str | None]) -> list[VersionEffect]:
    """One effect per new version; ``report`` must be split by prompt version."""
    slices: dict[str, SliceFigures] = {piece.key: piece for piece in report.slices}
    order = [seen.version for seen in report.changelog.versions if seen.version]
    notes = {note.version: note.reason for note in report.changelog.notes}
    effects: list[VersionEffect] = []
    for version in new_versions:
        if not version or version not in order:
            continue
        index = order.index(version)
        previous = order[index - 1] if index > 0 else None
        after = slices.get(version, SliceFigures(key=version))
        before = slices.get(previous) if previous else None
        effects.append(
            VersionEffect(
                version=version,
                previous=previous,
                wrong_before=before.wrong_rate if before else None,
                wrong_after=after.wrong_rate,
                review_p50_before_ms=before.review_time.p50_ms if before else None,
                review_p50_after_ms=after.review_time.p50_ms,
                note=notes.get(version),
            )
        )
    return effects
