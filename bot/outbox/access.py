"""Slack refusals a person must fix: a scope, a membership, a channel, the token.

Such an answer is not the message's fault, so the row WAITS (put back every
``access_wait`` seconds, not counted as an attempt, so it never fails for good) instead of
failing, and the problem is logged ONCE per worker, as a warning that says how to fix it,
until a delivery to that channel succeeds again. The log line is the report: the alert
channel may be the very channel Slack refuses, and an alert about it could not be posted.

Which Slack errors wait and which fail (``docs/slack.md``, "When Slack refuses"):

- wait, because a person can fix them and the message is still right: ``missing_scope``,
  ``not_in_channel``, ``channel_not_found`` (a wrong ID, or a private channel the bot was
  not invited to: Slack answers the same for both), ``is_archived`` (unarchive it),
  ``restricted_action`` (a workspace setting stops the bot posting there), and the token
  errors ``invalid_auth``, ``not_authed``, ``account_inactive``, ``token_revoked``;
- fail at once, because trying again can never succeed: the message itself is refused
  (``invalid_blocks``, ``msg_too_long``, ``no_text``, ``invalid_arguments``…) or what it
  refers to is gone (``message_not_found``, ``cant_update_message``, ``thread_not_found``,
  a DM to a ``user_not_found``/``user_disabled`` person). Unknown codes fail too.
"""

from __future__ import annotations

import logging

from bot.outbox.outcomes import Failed, Retry

log = logging.getLogger("handrail.outbox")

#: Answers about the bot's token: the fix is the same whichever channel was written to.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})
#: Slack's answers that mean "a person must fix the app, the channel or the token", never
#: "bad message": the message waits for the fix.
ACCESS_ERRORS = frozenset(
    {"missing_scope", "not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
    | TOKEN_ERRORS
)
#: The key a token problem is reported under: once for the worker, not once per channel.
EVERY_CHANNEL = "*"


def is_access_problem(outcome: object) -> bool:
    return isinstance(outcome, Failed) and outcome.slack_error in ACCESS_ERRORS


def fix_for(failed: Failed, channel: str) -> str:
    """What the operator must do, in one sentence."""
    code = failed.slack_error
    if code == "missing_scope":
        return (
            f"add the scope {failed.needed or '(see the error)'} in your Slack app's OAuth "
            "settings (OAuth & Permissions, Bot Token Scopes; manifest.yml lists them all) "
            "and reinstall the app"
        )
    if code == "channel_not_found":
        return (
            f"check the channel ID {channel} in workflows.yml (channel details, at the bottom), "
            "or, if it is a private channel, invite @Handrail to it (/invite @Handrail)"
        )
    if code == "is_archived":
        return f"unarchive <#{channel}> (channel settings, Unarchive)"
    if code == "restricted_action":
        return (
            f"let apps post in <#{channel}> (a workspace or channel posting permission "
            "stops the bot; a workspace admin can change it)"
        )
    if code in TOKEN_ERRORS:
        return (
            "set SLACK_BOT_TOKEN to the Bot User OAuth Token of an installed, active app "
            "(OAuth & Permissions; reinstall the app if it was revoked) and restart Handrail"
        )
    return f"invite @Handrail to <#{channel}> (type /invite @Handrail in the channel)"


class AccessProblems:
    """Which problems were reported already, so each is said once, with its fix."""

    def __init__(self, *, wait: float) -> None:
        self.wait = wait
        self._reported: dict[str, set[str]] = {}
        """Channel (or ``EVERY_CHANNEL``) -> problem keys already reported for it."""

    def wait_for_fix(self, failed: Failed, *, channel: str, doing: str) -> Retry:
        """A Retry that waits for the fix (not counted), reporting the problem once."""
        key = f"{failed.slack_error}:{failed.needed}"
        where = EVERY_CHANNEL if failed.slack_error in TOKEN_ERRORS else channel
        reported = self._reported.setdefault(where, set())
        if key not in reported:
            reported.add(key)
            log.warning(
                "Slack refused %s: %s. Messages to %s wait until you %s.",
                doing,
                failed.error,
                "every channel" if where == EVERY_CHANNEL else channel,
                fix_for(failed, channel),
            )
        return Retry(f"waiting for access: {failed.error}", after=self.wait, counts=False)

    def fixed(self, channel: str) -> None:
        """A delivery to ``channel`` worked: report a problem there (or with the token, which
        just worked) again if it comes back."""
        self._reported.pop(channel, None)
        self._reported.pop(EVERY_CHANNEL, None)
