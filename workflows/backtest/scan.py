"""Run a backtest: stream each workflow's recorded gate questions and re-decide them.

The proposed brief is validated before this is called (``load_config``): a brief with a
problem is listed in full and nothing is evaluated. Progress is reported per page to an
optional callback, so the command line can draw it on a terminal and stay silent in a pipe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories.backtest import (
    get_handoff_inputs,
    get_review_waits,
    read_json,
    stream_gate_steps,
)
from workflows.backtest.inputs import INPUTS_VERSION, read_recorded
from workflows.backtest.replay import Replayer
from workflows.backtest.report import BacktestReport, ReviewWaits, WorkflowBacktest, window_days
from workflows.config.brief import HandrailConfig
from workflows.errors import NotFound

Progress = Callable[[str, int], None]


def chosen_workflows(proposed: HandrailConfig, only: str | None) -> list[str]:
    """The proposed brief's workflows, or the one asked for, which it must name."""
    if only is None:
        return sorted(proposed.workflows)
    if only not in proposed.workflows:
        named = ", ".join(sorted(proposed.workflows)) or "none"
        raise NotFound(
            f"the proposed brief has no workflow '{only}' (it names: {named})",
            details=[{"loc": "workflow"}],
        )
    return [only]


async def run_backtest(
    db: AsyncSession,
    *,
    current: HandrailConfig,
    proposed: HandrailConfig,
    brief: str,
    workflows: Sequence[str],
    since: timedelta,
    now: datetime,
    progress: Progress | None = None,
) -> BacktestReport:
    """Re-decide every gate question of ``workflows`` recorded in the last ``since``."""
    start = now - since
    report = BacktestReport(brief=brief, since=start, until=now)
    if len(workflows) == len(proposed.workflows):  # the whole brief, not one --workflow
        report.dropped = sorted(set(current.workflows) - set(proposed.workflows))
    for name in workflows:
        policy = proposed.workflows[name]
        was = current.workflow(name)
        result = WorkflowBacktest(
            workflow=name,
            mode_now=was.mode if was is not None else None,
            mode_proposed=policy.mode,
            reviewers=tuple(policy.reviewers),
            window_days=window_days(since),
        )
        replayer = Replayer(policy, workflow=name)
        async for page in stream_gate_steps(db, workflow=name, since=start, until=now):
            rows = []
            for row in page:
                inputs = read_json(row.input)
                rows.append((row, inputs, _output(row.output, row.status, inputs)))
            older = {
                output["handoff_id"]
                for _, inputs, output in rows
                if not _has_inputs(inputs) and isinstance(output, dict) and output.get("handoff_id")
            }
            handoffs = await get_handoff_inputs(db, older)
            for row, inputs, output in rows:
                handoff_id = output.get("handoff_id") if isinstance(output, dict) else None
                question = read_recorded(
                    run_id=row.run_id,
                    workflow=name,
                    action=row.name,
                    verdict=row.status or "allow",
                    output=output,
                    inputs=inputs,
                    recorded_at=row.recorded_at,
                    handoff=handoffs.get(handoff_id) if handoff_id else None,
                )
                result.add(
                    run_id=question.run_id,
                    day=row.recorded_at.date(),
                    before=question.verdict,
                    after=replayer.replay(question),
                    complete=question.complete,
                )
            if progress is not None:
                progress(name, result.questions)
        count, p50, p90 = await get_review_waits(db, workflow=name, since=start, until=now)
        result.waits = ReviewWaits(decisions=count, p50_ms=p50, p90_ms=p90)
        report.workflows.append(result)
    return report


def _output(text: str | None, verdict: str | None, inputs: object) -> object:
    """The verdict step's output, parsed only where it tells something the inputs do not.

    It says whether the workflow was paused and which handoff was opened. A pause always
    denies, and only older steps need their handoff, so a step with inputs and any other
    verdict is not parsed: most of a backtest's rows, and half its JSON.
    """
    if verdict != "deny" and _has_inputs(inputs):
        return None
    return read_json(text)


def _has_inputs(value: object) -> bool:
    return isinstance(value, dict) and value.get("inputs") == INPUTS_VERSION
