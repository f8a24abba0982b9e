"""Asking the gate, waiting for the person, and doing what their decision allows.

The demo acts as a careful automation would: an approved draft goes out exactly as it was
written, an edited one as the reviewer wrote it (never with a ``[REDACTED:…]`` left in), a
rejection sends nothing and keeps the reason, and a shadow case never sends at all. Every
act is recorded in the run before the run is finished, so the trace tells the same story
as the demo's output.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handrail_client import Decision, ReviewTimeout, Run

from bot.demo.context import Demo, FollowUp

#: What one scenario does once a decision is in.
Act = Callable[[Decision], Awaitable[None]]
QUOTE_MAX = 160


def quote(text: str | None) -> str:
    """The text on one line, cut to a readable length, in quotes."""
    flat = " ".join((text or "").split())
    if len(flat) > QUOTE_MAX:
        flat = flat[: QUOTE_MAX - 1].rstrip() + "…"
    return f"“{flat}”"


async def ask_gate(
    demo: Demo,
    run: Run,
    *,
    scenario: str,
    workflow: str,
    ticket: str,
    action: str,
    act: Act,
    draft: str | None = None,
    confidence: float | None = None,
    summary: str | None = None,
) -> FollowUp | None:
    """Ask before acting; act at once on an allow or deny, or return the wait for a person."""
    await run.flush()  # the steps so far are in the trace the reviewer opens
    gate = await run.client.gate(
        run.run_id, action=action, draft=draft, confidence=confidence, summary=summary
    )
    demo.tell(scenario, f"{ticket}: asked the gate to {action}: {gate.verdict} ({gate.reason})")
    if gate.handoff_id is None:
        status = "approved" if gate.verdict == "allow" else "denied"
        await act(Decision("", status, None, None, draft, gate.reason, None))
        return None
    handoff_id = gate.handoff_id
    demo.tell(
        scenario,
        f"{ticket}: handoff {handoff_id} (run {run.run_id}) waits for a reviewer in "
        f"{demo.review_channel(workflow)}",
    )

    async def follow_up() -> None:
        decision = await wait_for(demo, run, scenario=scenario, handoff_id=handoff_id, draft=draft)
        if decision is not None:
            await act(decision)

    return follow_up


async def wait_for(
    demo: Demo, run: Run, *, scenario: str, handoff_id: str, draft: str | None
) -> Decision | None:
    """The person's decision, or None (said aloud) when none came within the demo's wait."""
    try:
        return await run.client.wait_for_decision(
            handoff_id, max_wait=demo.timing.wait, draft=draft
        )
    except ReviewTimeout:
        demo.tell(
            scenario,
            f"no decision on handoff {handoff_id} within {demo.timing.wait:g} s; "
            "nothing sent, the handoff stays open",
        )
        return None


def reply_sender(demo: Demo, run: Run, *, scenario: str, ticket: str) -> Act:
    """What a support automation does with a decision on its drafted reply."""

    async def act(decision: Decision) -> None:
        if decision.shadow:
            await _compare_only(demo, run, scenario=scenario, ticket=ticket, decision=decision)
        elif decision.approved and decision.unresolved_redactions:
            kinds = ", ".join(decision.unresolved_redactions)
            demo.tell(
                scenario,
                f"{decision.status}: not sending to {ticket}: the text still hides "
                f"[REDACTED:{kinds}] that cannot be restored",
            )
            await run.finish("succeeded", result={"sent": False, "why": "unresolved redaction"})
        elif decision.approved and decision.text is not None:
            await run.act(decision)  # states the act on this very approval, once
            await run.action("send_reply", input={"ticket": ticket}, output={"text": decision.text})
            if decision.status == "edited":
                demo.tell(
                    scenario, f"edited: sending your text to {ticket}: {quote(decision.text)}"
                )
            else:
                demo.tell(scenario, f"sent the approved reply to {ticket}: {quote(decision.text)}")
            await run.finish("succeeded", result={"sent": True, "decision": decision.status})
        else:
            await _not_sent(demo, run, scenario=scenario, ticket=ticket, decision=decision)

    return act


async def _not_sent(
    demo: Demo, run: Run, *, scenario: str, ticket: str, decision: Decision
) -> None:
    if decision.status == "rejected":
        line = f"rejected: not sending to {ticket}; reason: {decision.reason or 'none given'}"
    else:
        line = f"{decision.status}: not sending to {ticket} ({decision.reason or 'no decision'})"
    demo.tell(scenario, line)
    await run.finish("succeeded", result={"sent": False, "decision": decision.status})


async def _compare_only(
    demo: Demo, run: Run, *, scenario: str, ticket: str, decision: Decision
) -> None:
    """Shadow mode: the reviewer's choice is a verdict to compare against, never a go."""
    would = f"; they would have sent {quote(decision.shadow_text)}" if decision.shadow_text else ""
    why = f" ({decision.reason})" if decision.reason else ""
    demo.tell(
        scenario,
        f"shadow verdict on {ticket}: {decision.reviewer or 'nobody'} chose "
        f"{decision.status}{why}{would}. Nothing sent: the workflow is in shadow mode",
    )
    await run.note("shadow_verdict", f"{decision.status} by {decision.reviewer}")
    await run.finish("succeeded", result={"sent": False, "shadow_verdict": decision.status})
