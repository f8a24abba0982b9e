"""One incident, one alert: a run's failure is folded into the failed step that caused it.

Alertmanager groups alerts by labels (``group_by``) so one incident pages once; here the
label is the run. A run that fails after one of its steps failed is that step's incident,
so only the step's error is counted. Distinct incidents (different errors in different
runs, or a run that fails with no failed step) still raise alerts of their own.
"""

from __future__ import annotations

from tests.alert_harness import OnCall

STEP_ERROR = "timeout after 30 s for invoice 123"
RUN_ERROR = "giving up: order_lookup kept failing for ticket 42"


async def fail_step_then_run(oncall: OnCall, *, times: int) -> None:
    """``times`` runs whose ``order_lookup`` step fails, then the run fails because of it."""
    for run_id in await oncall.fail(STEP_ERROR, times=times):
        await oncall.finish_failed(run_id, RUN_ERROR)


async def test_a_run_failed_by_its_step_raises_one_alert(oncall: OnCall) -> None:
    """Five runs failing because their step failed page once, counting five occurrences."""
    await fail_step_then_run(oncall, times=5)
    await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert (alert.rule, alert.title, alert.count) == ("repeated_error", STEP_ERROR, 5)
    assert len(oncall.posts()) == 1


async def test_a_run_failing_with_no_failed_step_raises_its_own_alert(oncall: OnCall) -> None:
    """Runs that fail without a failed step are an incident of their own."""
    await oncall.fail_runs(RUN_ERROR, times=5)
    await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert (alert.title, alert.count) == (RUN_ERROR, 5)


async def test_two_distinct_incidents_stay_two_alerts(oncall: OnCall) -> None:
    """Runs failed by a step and runs failing on their own with another error page twice."""
    await fail_step_then_run(oncall, times=5)
    await oncall.fail_runs("model refused the prompt", times=5)
    await oncall.tick_and_deliver()
    titles = sorted((alert.title, alert.count) for alert in await oncall.alerts())
    assert titles == [("model refused the prompt", 5), (STEP_ERROR, 5)]
    assert len(oncall.posts()) == 2


async def test_later_run_failures_do_not_count_the_incident_again(oncall: OnCall) -> None:
    """A run failing a minute after its step failed adds nothing to the step's alert."""
    run_ids = await oncall.fail(STEP_ERROR, times=5)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=1)
    for run_id in run_ids:
        await oncall.finish_failed(run_id, RUN_ERROR)
    await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert alert.count == 5
