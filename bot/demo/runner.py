"""Playing the scenarios against a running Handrail, then waiting for every decision.

The demo is an automation like any other: it reaches Handrail only over HTTP, through the
Python client, with tokens of its own. Only the tokens are made directly in the store (as
``handrail token create`` makes them), so the demo needs no set-up; they are labelled
``demo`` and expire after a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from handrail_client import HandrailClient, HandrailUnavailable, Unauthorized
from ulid import ULID

from bot.demo import failures, reviews
from bot.demo.context import Demo, DemoTiming, FollowUp, Say
from bot.services import Services
from workflows import credentials
from workflows.errors import HandrailError

DEMO_LABEL = "demo"
TOKEN_LIFETIME = timedelta(days=1)
HEALTH_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    workflow: str
    play: Callable[[Demo], Awaitable[FollowUp | None]]


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("draft-reply", reviews.TRIAGE, reviews.draft_reply),
        Scenario("low-confidence", reviews.TRIAGE, reviews.low_confidence),
        Scenario("stop-topic", reviews.TRIAGE, reviews.stop_topic),
        Scenario("model-timeout", reviews.TRIAGE, failures.model_timeout),
        Scenario("repeated-errors", failures.INVOICES, failures.repeated_errors),
        Scenario("shadow", reviews.SHADOW, reviews.shadow),
    )
}


async def run_demo(
    services: Services,
    *,
    url: str,
    scenarios: Sequence[str] = (),
    once: bool = False,
    timing: DemoTiming | None = None,
    say: Say = print,
    tag: str | None = None,
) -> int:
    """Play ``scenarios`` (all, if none are named) and, unless ``once``, act on their decisions."""
    chosen = [SCENARIOS[name] for name in scenarios or SCENARIOS]
    workflows = sorted({scenario.workflow for scenario in chosen})
    missing = [name for name in workflows if name not in services.config.workflows]
    if missing:
        raise HandrailError(
            f"the demo plays the example workflows, and {services.settings.config_path} has no "
            f"{', '.join(missing)}; copy them from workflows.example.yml"
        )
    await ensure_answering(url)
    tokens = await create_demo_tokens(services, workflows)
    demo_timing = timing or DemoTiming()
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(HandrailClient(url, token))
            for name, token in tokens.items()
        }
        demo = Demo(
            clients=clients,
            config=services.config,
            timing=demo_timing,
            say=say,
            tag=tag or str(ULID())[-6:].lower(),
        )
        try:
            await _play(demo, chosen, url=url, once=once)
        except Unauthorized:
            raise HandrailError(
                f"the server at {url} refused the demo's token: it keeps another database "
                "than this shell's HANDRAIL_DATABASE_URL; run the demo with the server's settings"
            ) from None
        except HandrailUnavailable as exc:
            raise HandrailError(f"Handrail at {url} stopped answering: {exc}") from None
    return 0


async def _play(demo: Demo, chosen: Sequence[Scenario], *, url: str, once: bool) -> None:
    demo.say(f"handrail demo: {len(chosen)} scenario(s) against {url}; run IDs end in -{demo.tag}")
    follow_ups = [
        follow_up for scenario in chosen if (follow_up := await scenario.play(demo)) is not None
    ]
    if once or not follow_ups:
        demo.say(
            "not waiting for decisions (--once); "
            "each run reads as a timeline with: handrail trace RUN_ID"
        )
        return
    demo.say(
        f"waiting up to {demo.timing.wait:g} s for {len(follow_ups)} decision(s): "
        "approve, edit or reject the handoffs in Slack"
    )
    await asyncio.gather(*(follow_up() for follow_up in follow_ups))
    demo.say("every case has its answer; each run reads as a timeline with: handrail trace RUN_ID")


async def ensure_answering(url: str) -> None:
    """One line naming the fix when nothing answers at ``url``, before anything is made."""
    timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"{url.rstrip('/')}/healthz") as response,
        ):
            if response.status == 200:
                return
            problem = f"/healthz answered HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        problem = str(exc) or type(exc).__name__
    raise HandrailError(
        f"Handrail is not answering at {url} ({problem}); start it with `make run` "
        "(or `handrail serve`), or give its address with --url"
    )


async def create_demo_tokens(services: Services, workflows: Sequence[str]) -> dict[str, str]:
    """A fresh token per workflow, as ``handrail token create --label demo`` makes them."""
    tokens: dict[str, str] = {}
    async with services.sessions() as db, db.begin():
        for workflow in workflows:
            tokens[workflow], _ = await credentials.create_token(
                db,
                workflow=workflow,
                expires_in=TOKEN_LIFETIME,
                label=DEMO_LABEL,
                now=services.clock(),
            )
    return tokens
