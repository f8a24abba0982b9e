"""What every scenario is given: a client per workflow, the timing, and where to speak."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflows.config.brief import HandrailConfig

if TYPE_CHECKING:
    from handrail_client import HandrailClient

#: Where the demo says what it does, one line at a time (``print`` on the command line).
Say = Callable[[str], None]
#: What a scenario leaves to do once a person has decided: wait for it, then act.
FollowUp = Callable[[], Awaitable[None]]
#: Long enough to walk over to the review channel and decide every case.
DEFAULT_WAIT_SECONDS = 1800.0


@dataclass(frozen=True, slots=True)
class DemoTiming:
    """How long the demo waits, in seconds; tests shorten each so that nothing sleeps.

    ``wait`` bounds the wait for all decisions together, ``retry_pause`` is the backoff
    between the timed-out model's attempts, and ``poll`` how often the tool-failure case
    looks for its parked job being resumed.
    """

    wait: float = DEFAULT_WAIT_SECONDS
    retry_pause: float = 0.5
    poll: float = 2.0


@dataclass(frozen=True, slots=True)
class Demo:
    """One demo run: the clients (one token per workflow), the brief, the timing, a voice.

    ``tag`` ends every run ID, so the demo can run again against the same database.
    """

    clients: Mapping[str, HandrailClient]
    config: HandrailConfig
    timing: DemoTiming
    say: Say
    tag: str

    def client(self, workflow: str) -> HandrailClient:
        return self.clients[workflow]

    def run_id(self, ticket: str) -> str:
        return f"{ticket}-{self.tag}"

    def tell(self, scenario: str, line: str) -> None:
        self.say(f"[{scenario}] {line}")

    def review_channel(self, workflow: str) -> str:
        return self.config.workflows[workflow].review_channel or "the outbox (no channel set)"
