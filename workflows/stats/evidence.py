"""How much a share can be trusted: the Wilson score bound and the smallest sample shown.

A share of 3 out of 3 is not "100%"; every rate the metrics print carries its ``n``, and
below ``MIN_CASES`` it says "not enough data" instead of a number. Suggestions go further
and ask the Wilson lower bound (95%) to clear the target, which a small sample cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Below this many cases a rate is shown as "not enough data".
MIN_CASES = 20
#: z for a two-sided 95% interval.
Z_95 = 1.959963984540054


def wilson_lower_bound(successes: int, n: int, *, z: float = Z_95) -> float:
    """The lower end of the Wilson score interval for ``successes`` out of ``n`` (0 when n=0)."""
    if n <= 0:
        return 0.0
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


@dataclass(frozen=True, slots=True)
class Rate:
    """``part`` out of ``n``; ``value`` is None when ``n`` is below ``MIN_CASES``."""

    part: int
    n: int

    @property
    def value(self) -> float | None:
        return self.part / self.n if self.n >= MIN_CASES else None

    def describe(self) -> str:
        """``12% (6 of 50)``, or ``not enough data (3 of 4)``."""
        value = self.value
        if value is None:
            return f"not enough data ({self.part} of {self.n})"
        return f"{value:.0%} ({self.part} of {self.n})"

    def to_json(self) -> dict[str, float | int | None]:
        return {"value": self.value, "part": self.part, "n": self.n}
