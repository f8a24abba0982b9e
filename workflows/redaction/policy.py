"""What a workflow opts into beyond the secrets: personal-data kinds and custom patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from workflows.redaction.detectors import BUILTIN_KINDS

PERSONAL_KINDS: Final[Mapping[str, str]] = {
    "emails": "email",
    "phones": "phone",
    "card_numbers": "card_number",
    "ibans": "iban",
}
"""The personal-data names a policy may turn on, and the kind each one reports."""


def validate_custom_pattern(name: str, pattern: str) -> re.Pattern[str]:
    """Compile a workflow's custom pattern, or raise ValueError saying what is wrong."""
    if not name.strip() or name in BUILTIN_KINDS:
        raise ValueError(
            f"custom redaction pattern {pattern!r} needs a name of its own, not {name!r}"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"custom redaction pattern {name!r} ({pattern!r}) does not compile: {error}"
        ) from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"custom redaction pattern {name!r} ({pattern!r}) matches nothing")
    return compiled


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """What a workflow redacts beyond the secrets, which are always redacted."""

    personal: frozenset[str] = frozenset()
    custom: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(self.personal - PERSONAL_KINDS.keys())
        if unknown:
            known = ", ".join(["secrets", *PERSONAL_KINDS])
            raise ValueError(f"unknown redaction kinds {unknown}: expected some of {known}")
        names = [name for name, _ in self.custom]
        if len(set(names)) != len(names):
            raise ValueError(f"custom redaction pattern names repeat: {names}")
        for name, pattern in self.custom:
            validate_custom_pattern(name, pattern)

    @classmethod
    def from_config(
        cls, kinds: Iterable[str], custom: Mapping[str, str] | None = None
    ) -> RedactionPolicy:
        """Build a policy from a workflow's ``redact:`` list (``secrets`` is always on)."""
        personal = frozenset(kind for kind in kinds if kind != "secrets")
        return cls(personal=personal, custom=tuple((custom or {}).items()))
