"""``handrail demo`` on the command line: its options, and the address it plays against."""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

from bot.demo.context import DEFAULT_WAIT_SECONDS, DemoTiming
from bot.services import Services
from bot.settings import Settings
from workflows.errors import HandrailError

SCENARIO_NAMES = (
    "draft-reply",
    "low-confidence",
    "stop-topic",
    "model-timeout",
    "repeated-errors",
    "shadow",
)
"""The scenarios in the order they play; named here so ``handrail --help`` works without the
client installed (the server's own distribution does not contain it)."""

DESCRIPTION = """Play example automations against a running Handrail: a draft reply for
approval, a low-confidence case, a stop-topic hit, a model that keeps timing out, repeated
errors that raise an alert, and a shadow-mode case. Then wait for the decisions made in
Slack and act on each. Tokens are made in the configured database, labelled 'demo'."""


def add_demo_parser(commands: Any) -> None:
    """Add ``demo`` to the ``handrail`` subcommands (``commands`` is argparse's subparsers)."""
    parser = commands.add_parser(
        "demo", help="play example automations and act on their decisions", description=DESCRIPTION
    )
    parser.add_argument(
        "--url",
        help="where Handrail answers (default: HANDRAIL_PUBLIC_URL, else HANDRAIL_HOST:PORT)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIO_NAMES,
        help="play only this scenario; repeat for several (default: all)",
    )
    parser.add_argument(
        "--once", action="store_true", help="play the scenarios, do not wait for decisions"
    )
    parser.add_argument(
        "--wait",
        type=seconds,
        default=DEFAULT_WAIT_SECONDS,
        help=f"seconds to wait for the decisions (default {DEFAULT_WAIT_SECONDS:g})",
    )
    parser.set_defaults(handler=demo)


async def demo(services: Services, args: argparse.Namespace) -> int:
    try:
        from bot.demo.runner import run_demo
    except ModuleNotFoundError as missing:
        if missing.name != "handrail_client":
            raise
        raise HandrailError(
            "the demo plays its automations through the Python client, which is not installed;"
            " install it with `pip install ./client` (`make run` does)"
        ) from None
    return await run_demo(
        services,
        url=args.url or default_url(services.settings),
        scenarios=args.scenario or (),
        once=args.once,
        timing=DemoTiming(wait=args.wait),
        say=partial(print, flush=True),
    )


def default_url(settings: Settings) -> str:
    """``HANDRAIL_PUBLIC_URL`` when it is set, else the address ``serve`` listens on."""
    if "public_url" in settings.model_fields_set:
        return settings.public_url
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def seconds(value: str) -> float:
    """``--wait``: a positive number of seconds."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return number
