"""Signed requests Slack would never send in that shape get a 400 and one quiet log line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from handlers.ids import ActionId, CallbackId
from tests.conftest import Database
from tests.slack_harness import Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


def form(payload: object) -> str:
    return "payload=" + quote(json.dumps(payload))


MALFORMED = {
    "empty payload": "payload=",
    "null payload": "payload=null",
    "a list": form([{"type": "block_actions"}]),
    "a number": "payload=7",
    "not JSON": "payload=%7Bnope",
    "no type": form({"user": {"id": "U0ALICE"}}),
    "no actions": form({"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": []}),
    "actions not a list": form({"type": "block_actions", "actions": {"a": 1}}),
    "null view": form({"type": "view_submission", "user": {"id": "U0ALICE"}, "view": None}),
    "view without callback": form({"type": "view_submission", "view": {"id": "V1"}}),
    "percent-encoded non-UTF-8": "payload=%FF%FE",
}


@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_signed_payload_is_a_400_without_a_traceback(
    slack: Slack, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    """A signed interactive payload of the wrong shape is answered 400 and logged once,
    as a warning without a traceback."""
    caplog.set_level(logging.INFO)
    status, _, _, _ = await slack.driver.send(body)
    assert status == 400
    assert [r.levelname for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r.exc_info for r in caplog.records if r.exc_info] == []
    assert len([r for r in caplog.records if "malformed Slack request" in r.getMessage()]) == 1


async def test_a_body_that_is_not_utf8_is_a_400(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    """A signed body whose bytes are not UTF-8 is answered 400 without a traceback."""
    status, _, _, _ = await slack.driver.send(b"payload=\xff\xfe{}")
    assert status == 400
    assert [r.exc_info for r in caplog.records if r.exc_info] == []


async def test_a_well_formed_click_still_decides(slack: Slack) -> None:
    """The shape check lets a real Approve click through to its handler."""
    _, handoff_id = await slack.open_review()
    response = await slack.click(ActionId.HANDOFF_APPROVE, handoff_id)
    assert (response.status, response.text) == (200, "")
    assert (await slack.decided(handoff_id)).outcome == "approved"


async def test_a_submission_of_a_known_modal_without_state_is_a_400(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    """A Reject submission whose view has no state is a 400, records nothing, logs no traceback."""
    _, handoff_id = await slack.open_review()
    body = form(
        {
            "type": "view_submission",
            "user": {"id": "U0ALICE"},
            "view": {"id": "V1", "callback_id": CallbackId.HANDOFF_REJECT_SUBMIT},
        }
    )
    status, _, _, _ = await slack.driver.send(body)
    assert status == 400
    assert await slack.decision(handoff_id) is None
    assert [r.exc_info for r in caplog.records if r.exc_info] == []
