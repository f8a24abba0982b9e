"""``/handrail stats WORKFLOW [since] [by]``: the review metrics, privately, and their
charts in the person's DM (queued to the outbox, shared through Slack's file upload).

Only the workflow's reviewers and admins may read them: they name reviewers and quote
corrections. ``handlers.commands`` dispatches the subcommand here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.blocks import Message
from handlers.blocks.stats import stats_message
from handlers.commands.context import command_deps
from handlers.context import directory_of
from handlers.escape import escape_mrkdwn
from workflows.durations import parse_duration
from workflows.errors import InvalidInput, NotFound
from workflows.roles import Role, ensure_role
from workflows.stats.charts.share import queue_stats_charts
from workflows.stats.report import SPLITS, build_stats

READERS: tuple[Role, ...] = ("reviewer", "admin")
USAGE = "`/handrail stats WORKFLOW [30d] [action|prompt_version|reviewer]`"
#: Ephemeral messages cannot carry files, so the charts go to the person's DM.
CHARTS_NOTE = {
    "type": "context",
    "elements": [
        {"type": "mrkdwn", "text": ":bar_chart: The charts of this window follow in your DM."}
    ],
}


def _options(words: list[str]) -> tuple[timedelta, str | None]:
    since, split = timedelta(days=30), None
    for word in words:
        if word in SPLITS:
            split = word
            continue
        try:
            since = parse_duration(word)
        except (ValueError, OverflowError):
            raise InvalidInput(
                f"`{escape_mrkdwn(word[:40])}` is neither a window (30d) nor a split; {USAGE}",
                details=[{"loc": "text", "value": word[:40]}],
            ) from None
    return since, split


async def answer_stats(context: dict[str, Any], *, user: str, text: str) -> Message:
    """The metrics of the workflow named first in ``text``, if ``user`` reviews or runs it."""
    deps = command_deps(context)
    words = text.split()
    known = ", ".join(sorted(deps.config.workflows)) or "none"
    if not words:
        raise InvalidInput(f"say which workflow: {USAGE} (workflows: {known})", details=[])
    name = words[0]
    policy = deps.config.workflow(name)
    if policy is None:
        raise NotFound(
            f"no workflow named '{escape_mrkdwn(name[:64])}' in workflows.yml (workflows: {known})",
            details=[{"loc": "workflow", "value": name[:64]}],
        )
    since, split = _options(words[1:])
    await ensure_role(
        user, workflow=name, policy=policy, roles=READERS, directory=directory_of(context)
    )
    now = deps.clock()
    async with deps.readers() as db:
        report = await build_stats(
            db, config=deps.config, workflow=name, since=since, split=split, now=now
        )
    async with deps.sessions() as db, db.begin():
        await queue_stats_charts(
            db,
            key=f"stats-charts:{name}:{user}:{now.isoformat()}",
            channel=user,
            workflow=name,
            end=now,
            since=since,
            now=now,
        )
    deps.wake_outbox()
    message = stats_message(report)
    return Message(text=message.text, blocks=[*message.blocks, CHARTS_NOTE])
