"""Slack access an operator must fix: a missing scope, or the bot not in a channel.

Such an answer is not the message's fault, so the row WAITS (put back every
``access_wait`` seconds, not counted as an attempt, so it never fails for good) instead of
failing, and the problem is logged ONCE per worker, as a warning that says how to fix it,
until a delivery to that channel succeeds again. The log line is the report: the alert
channel may be the very channel Slack refuses, and an alert about it could not be posted.
"""

from __future__ import annotations

import logging

from bot.outbox.outcomes import Failed, Retry

log = logging.getLogger("handrail.outbox")

#: Slack's answers that mean "fix the app's scopes or invite the bot", never "bad message".
ACCESS_ERRORS = frozenset({"missing_scope", "not_in_channel"})


def is_access_problem(outcome: object) -> bool:
    return isinstance(outcome, Failed) and outcome.slack_error in ACCESS_ERRORS


def fix_for(failed: Failed, channel: str) -> str:
    """What the operator must do, in one sentence."""
    if failed.slack_error == "missing_scope":
        return (
            f"add the scope {failed.needed or '(see the error)'} in your Slack app's OAuth "
            "settings (OAuth & Permissions, Bot Token Scopes; manifest.yml lists them all) "
            "and reinstall the app"
        )
    return f"invite @Handrail to <#{channel}> (type /invite @Handrail in the channel)"


class AccessProblems:
    """Which problems were reported already, so each is said once, with its fix."""

    def __init__(self, *, wait: float) -> None:
        self.wait = wait
        self._reported: dict[str, set[str]] = {}
        """Channel -> problem keys already reported for it."""

    def wait_for_fix(self, failed: Failed, *, channel: str, doing: str) -> Retry:
        """A Retry that waits for the fix (not counted), reporting the problem once."""
        key = f"{failed.slack_error}:{failed.needed}"
        reported = self._reported.setdefault(channel, set())
        if key not in reported:
            reported.add(key)
            log.warning(
                "Slack refused %s: %s. Messages to %s wait until you %s.",
                doing,
                failed.error,
                channel,
                fix_for(failed, channel),
            )
        return Retry(f"waiting for access: {failed.error}", after=self.wait, counts=False)

    def fixed(self, channel: str) -> None:
        """A delivery to ``channel`` worked: report a problem there again if it comes back."""
        self._reported.pop(channel, None)
