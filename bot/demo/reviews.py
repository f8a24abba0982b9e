"""The cases a person reviews: a draft reply, a low-confidence call, a stop topic, shadow mode.

Each plays a support automation up to the moment it must ask, recording its steps as a
real one would (the prompt, the tool it called, the model's answer with tokens), then asks
the gate and hands back what to do once a person decides (``bot.demo.acting``).
"""

from __future__ import annotations

from handrail_client import Decision, Run
from pydantic import JsonValue

from bot.demo.acting import Act, ask_gate, quote, reply_sender
from bot.demo.context import Demo, FollowUp

TRIAGE = "ticket-triage"
SHADOW = "order-updates"
PROMPT_VERSION = "triage-v3"
MODEL = "gpt-4o"


async def start(demo: Demo, workflow: str, ticket: str, question: str) -> Run:
    """A run for one ticket, begun with the prompt the automation sends its model."""
    run = demo.client(workflow).run(
        demo.run_id(ticket),
        input_source=ticket,
        prompt_version=PROMPT_VERSION,
        model=MODEL,
        metadata={"demo": True},
    )
    await run.start()
    await run.prompt(
        "triage", f"Triage {ticket} and draft a reply.\n\n{question}", version=PROMPT_VERSION
    )
    return run


async def model_answer(run: Run, name: str, answer: JsonValue, *, tokens: tuple[int, int]) -> None:
    async with run.model(name, model=MODEL, settings={"temperature": 0.2}) as step:
        step.output = answer
        step.tokens_in, step.tokens_out = tokens


async def draft_reply(demo: Demo) -> FollowUp | None:
    """A confident draft that still needs approval, because replies always do."""
    scenario, ticket = "draft-reply", "ticket-4812"
    run = await start(demo, TRIAGE, ticket, "From Sam: where is my order A-1042? It's been a week.")
    async with run.tool("order_lookup", input={"order": "A-1042"}) as lookup:
        lookup.output = {"status": "shipped", "carrier": "UPS", "eta": "Thursday"}
    draft = (
        "Hi Sam,\nyour order A-1042 left our warehouse on Monday and UPS expects to "
        "deliver it on Thursday.\nBest, Support"
    )
    await model_answer(run, "draft_reply", draft, tokens=(412, 58))
    demo.tell(scenario, f"{ticket}: drafted {quote(draft)}")
    return await ask_gate(
        demo,
        run,
        scenario=scenario,
        workflow=TRIAGE,
        ticket=ticket,
        action="send_reply",
        draft=draft,
        confidence=0.93,
        summary="Where-is-my-order question; the order has shipped.",
        act=reply_sender(demo, run, scenario=scenario, ticket=ticket),
    )


async def low_confidence(demo: Demo) -> FollowUp | None:
    """The model is unsure which team a ticket belongs to, so a person decides the route."""
    scenario, ticket = "low-confidence", "ticket-4813"
    run = await start(
        demo, TRIAGE, ticket, "From Ana: the export button does nothing since yesterday's update."
    )
    route: JsonValue = {"team": "platform", "confidence": 0.41, "runner_up": "billing"}
    await model_answer(run, "classify", route, tokens=(388, 21))
    return await ask_gate(
        demo,
        run,
        scenario=scenario,
        workflow=TRIAGE,
        ticket=ticket,
        action="route",
        confidence=0.41,
        summary="Route to the platform team? The model is unsure; billing came second.",
        act=router(demo, run, scenario=scenario, ticket=ticket, team="platform"),
    )


def router(demo: Demo, run: Run, *, scenario: str, ticket: str, team: str) -> Act:
    async def act(decision: Decision) -> None:
        if decision.approved:
            await run.action("route", input={"ticket": ticket, "team": team})
            demo.tell(scenario, f"{decision.status}: routed {ticket} to the {team} team")
            await run.finish("succeeded", result={"routed_to": team})
        else:
            why = decision.reason or "no decision"
            demo.tell(scenario, f"{decision.status}: not routing {ticket}; reason: {why}")
            await run.finish("succeeded", result={"routed_to": None})

    return act


async def stop_topic(demo: Demo) -> FollowUp | None:
    """A draft about a refund: a stop topic, so it goes to a person however sure the model is."""
    scenario, ticket = "stop-topic", "ticket-4814"
    run = await start(demo, TRIAGE, ticket, "From Priya: I was charged twice for order A-1107.")
    async with run.tool("payments_lookup", input={"order": "A-1107"}) as lookup:
        lookup.output = {"charges": 2, "amount": "49.00 EUR"}
    draft = (
        "Hi Priya,\nsorry about the double charge. I have started a refund of 49.00 EUR; "
        "you will see it within 5 days. We'll confirm at priya.n@example.com.\nBest, Support"
    )
    await model_answer(run, "draft_reply", draft, tokens=(455, 64))
    demo.tell(scenario, f"{ticket}: drafted {quote(draft)}")
    return await ask_gate(
        demo,
        run,
        scenario=scenario,
        workflow=TRIAGE,
        ticket=ticket,
        action="send_reply",
        draft=draft,
        confidence=0.88,
        summary="Double charge; the draft promises a refund.",
        act=reply_sender(demo, run, scenario=scenario, ticket=ticket),
    )


async def shadow(demo: Demo) -> FollowUp | None:
    """A workflow still in shadow mode: its case is posted for comparison, never acted on."""
    scenario, ticket = "shadow", "ticket-4816"
    run = await start(demo, SHADOW, ticket, "From Lee: when will my parcel arrive?")
    async with run.tool("order_lookup", input={"order": "A-1230"}) as lookup:
        lookup.output = {"status": "in transit", "carrier": "DHL", "eta": "Friday"}
    draft = "Hi Lee,\nyour parcel is with DHL and due on Friday.\nBest, Support"
    await model_answer(run, "draft_reply", draft, tokens=(301, 19))
    return await ask_gate(
        demo,
        run,
        scenario=scenario,
        workflow=SHADOW,
        ticket=ticket,
        action="send_reply",
        draft=draft,
        confidence=0.9,
        summary="Parcel status question.",
        act=reply_sender(demo, run, scenario=scenario, ticket=ticket),
    )
