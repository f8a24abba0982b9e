"""``/handrail review WORKFLOW ACTION`` and its Approve all button (``workflows.review.batch``).

The click is acknowledged, then approves each listed case as its own Approve click would
(``handlers.approvals.claim_or_vote``); the answer then says, case by case, what happened.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from handlers.approvals import claim_or_vote
from handlers.blocks import Message
from handlers.blocks.batch_review import batch_review_message
from handlers.commands.context import command_deps, reply, user_of
from handlers.context import directory_of
from handlers.errors import describe
from handlers.escape import escape_mrkdwn
from store.repositories import handoffs as handoff_rows
from store.repositories.review_queue import list_similar_pending
from workflows.errors import InvalidInput, NotFound
from workflows.review.batch import BATCH_MAX, Batch
from workflows.review.decisions import DecisionInput, already_taken
from workflows.review.handoffs import load_handoff_view
from workflows.review.rules import voting_rule
from workflows.roles import ensure_role

USAGE = "Usage: `/handrail review WORKFLOW ACTION`, e.g. `/handrail review ticket-triage refund`"


async def answer_review(context: dict[str, Any], *, user: str, text: str) -> Message:
    """The oldest pending cases of one workflow and action, for a reviewer of it."""
    words = text.split()
    if len(words) != 2:
        raise InvalidInput(USAGE, details=[{"loc": "text"}])
    workflow, action = words
    deps = command_deps(context)
    policy = deps.config.workflow(workflow)
    if policy is None:
        raise NotFound(
            f"no workflow '{escape_mrkdwn(workflow[:64])}' in workflows.yml",
            details=[{"loc": "workflow"}],
        )
    await ensure_role(
        user, workflow=workflow, policy=policy, roles=("reviewer",), directory=directory_of(context)
    )
    return await _listing(context, workflow=workflow, action=action)


async def _listing(
    context: dict[str, Any], *, workflow: str, action: str, note: str | None = None
) -> Message:
    deps = command_deps(context)
    async with deps.readers() as db:
        rows = await list_similar_pending(
            db, workflow=workflow, action=action, now=deps.clock(), limit=BATCH_MAX
        )
        cases = [await load_handoff_view(db, row.id) for row in rows]
    batch = Batch(workflow, action, tuple(case.id for case in cases))
    return batch_review_message(batch, cases, note=note)


async def handle_batch_approve(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """Approve all: each case approved (or voted for) on its own, then one private answer.

    Acknowledged first: ten claims and votes can take longer than Slack's three seconds
    on a busy server. Each case still takes its place in line when its own claim or vote
    is written, and one decided meanwhile is reported, not decided again.
    """
    await ack()
    user = user_of(body)
    try:
        batch = Batch.from_value(str(action.get("value") or ""))
        lines = await _approve_each(context, body, batch=batch, user=user)
        message = await _listing(
            context, workflow=batch.workflow, action=batch.action, note="\n".join(lines)
        )
    except Exception as error:  # answered privately, as every command is
        message = Message(text=describe(error, body, context), blocks=[])
    await reply(respond, message)


async def _approve_each(
    context: dict[str, Any], body: dict[str, Any], *, batch: Batch, user: str
) -> list[str]:
    """One line per case: approved, approval counted towards its quorum, or why not."""
    deps = command_deps(context)
    async with deps.readers() as db:
        found = {row.id: row for row in await handoff_rows.list_handoffs(db, batch.handoff_ids)}
    policy = deps.config.workflow(batch.workflow)
    decision = DecisionInput(outcome="approved", reviewer=user)

    async def approve(handoff_id: str) -> str:
        handoff = found.get(handoff_id)
        shown = f"`{escape_mrkdwn(handoff_id[:40])}`"
        why = batch.mismatch(handoff)
        if why is not None or handoff is None:
            return f":no_entry_sign: {shown} {why}; not approved"
        try:
            done = await claim_or_vote(dict(context), handoff_id=handoff_id, decision=decision)
        except Exception as error:
            return f":no_entry_sign: {shown}: {describe(error, body, context)}"
        if not done:
            async with deps.readers() as db:
                taken = await already_taken(db, handoff_id=handoff_id, decision=decision)
            why = taken.message if taken is not None else "someone decided it first"
            return f":no_entry_sign: {shown}: {why[:1].upper()}{why[1:]}"
        if policy is not None and voting_rule(policy, handoff) is not None:
            return f":ballot_box_with_check: {shown}: your approval counts towards its quorum"
        return f":white_check_mark: {shown}: approved"

    return list(await asyncio.gather(*(approve(i) for i in batch.handoff_ids)))
