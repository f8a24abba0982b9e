"""Faults injected on demand, so tests can prove Handrail survives a misbehaving Slack.

A fault is armed for a method (or ``*`` for any) and fires on the next matching call(s):

- ``http_500`` / ``http_503``: that HTTP status with a non-Slack body, the call not executed;
- ``timeout``: the response is held (``hold`` seconds, or until the emulator stops), then a
  504; the call is not executed;
- ``slow``: held likewise, then executed and answered normally;
- ``ratelimited``: HTTP 429, ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``;
- ``http_502``: a bad gateway, as a proxy in front of Slack answers;
- any other name (``invalid_blocks``, ``channel_not_found``…): HTTP 200 with that Slack error.

With the suffix ``_text`` (``http_500_text``, ``ratelimited_text``…) the answer has the same
status (and ``Retry-After``) but a ``text/plain`` body, as a proxy or load balancer in front
of Slack answers; on a Slack-error name it is a 200 with text (``ok_text_after_accept``: the
message is stored, and the answer is not JSON). The suffix comes before ``_after_accept``.

Any of these with the suffix ``_after_accept`` (``timeout_after_accept``,
``http_500_after_accept``…) first executes the call (the message IS stored) and then answers
with the fault: Slack accepted it but the answer was lost, the case where a naive retry
posts twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRANSPORT_FAULTS = frozenset({"http_500", "http_502", "http_503", "timeout", "slow", "ratelimited"})
AFTER_ACCEPT = "_after_accept"
TEXT_BODY = "_text"
#: The body of a ``_text`` fault: what an upstream proxy says when Slack is not there.
TEXT_ANSWER = "upstream connect error or disconnect/reset before headers"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Fault:
    """One parsed fault: what to answer and whether the call runs first."""

    kind: str
    after_accept: bool = False
    hold: float | None = None
    """Seconds to hold a ``timeout``/``slow`` response; None: the emulator's default."""
    retry_after: int = 1
    text_body: bool = False
    """Answer with a ``text/plain`` body instead of Slack's JSON."""

    @property
    def name(self) -> str:
        return (
            self.kind
            + (TEXT_BODY if self.text_body else "")
            + (AFTER_ACCEPT if self.after_accept else "")
        )

    @property
    def status(self) -> int:
        """The HTTP status this fault answers with."""
        return {
            "http_500": 500,
            "http_502": 502,
            "http_503": 503,
            "timeout": 504,
            "ratelimited": 429,
        }.get(self.kind, 200)

    @property
    def is_slack_error(self) -> bool:
        return self.kind not in TRANSPORT_FAULTS


def parse_fault(name: str, *, hold: float | None = None, retry_after: int = 1) -> Fault:
    """Turn ``"timeout_after_accept"`` into a Fault; a bad name raises ValueError."""
    if not _NAME.match(name):
        raise ValueError(f"fault must be a lowercase Slack-style name, got {name!r}")
    after = name.endswith(AFTER_ACCEPT)
    kind = name.removesuffix(AFTER_ACCEPT)
    text_body = kind.endswith(TEXT_BODY)
    kind = kind.removesuffix(TEXT_BODY) if text_body else kind
    if not kind:
        raise ValueError(f"fault {name!r} names no fault before its suffix")
    if retry_after < 1:
        raise ValueError(f"retry_after must be at least 1 second, got {retry_after}")
    if hold is not None and hold < 0:
        raise ValueError(f"hold must not be negative, got {hold}")
    return Fault(
        kind=kind, after_accept=after, hold=hold, retry_after=retry_after, text_body=text_body
    )


@dataclass
class Injection:
    """A fault armed for a method; ``remaining=None`` fires until cleared."""

    method: str
    fault: Fault
    remaining: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "fault": self.fault.name,
            "remaining": self.remaining,
            "hold": self.fault.hold,
            "retry_after": self.fault.retry_after,
        }


class FaultPlan:
    """The armed faults and the "down" switch, consumed first-in first-out."""

    def __init__(self) -> None:
        self.injections: list[Injection] = []
        self.down = False

    def inject(
        self,
        method: str,
        fault: str,
        *,
        times: int | None = 1,
        hold: float | None = None,
        retry_after: int = 1,
    ) -> Injection:
        """Arm ``fault`` for the next ``times`` calls to ``method`` (``*``: any method)."""
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None for always), got {times}")
        if not method:
            raise ValueError("method must be a Web API method name, 'response_url' or '*'")
        injection = Injection(method, parse_fault(fault, hold=hold, retry_after=retry_after), times)
        self.injections.append(injection)
        return injection

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if any, consuming one use of it."""
        if self.down:
            return Fault("http_503")
        for injection in self.injections:
            if injection.method in (method, "*"):
                if injection.remaining is not None:
                    injection.remaining -= 1
                    if injection.remaining == 0:
                        self.injections.remove(injection)
                return injection.fault
        return None

    def clear(self) -> None:
        """Disarm every fault and bring the emulator back up."""
        self.injections.clear()
        self.down = False
