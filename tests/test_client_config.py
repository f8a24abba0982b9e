"""Where the client finds Handrail, and what it says when a person is slow or says no."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import (
    ApprovalExpired,
    Decision,
    HandrailClient,
    HandrailSyncClient,
    MissingConfiguration,
    ReviewTimeout,
    ShadowOnly,
    UnresolvedRedactions,
)
from handrail_client.decorators import raise_unless_approved
from tenacity import wait_none


async def test_url_and_token_come_from_the_environment(
    client: TestClient[Any, Any], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no arguments the client uses HANDRAIL_URL and HANDRAIL_TOKEN."""
    monkeypatch.setenv("HANDRAIL_URL", str(client.make_url("")))
    monkeypatch.setenv("HANDRAIL_TOKEN", token)
    async with HandrailClient(wait=wait_none()) as api:
        started = await api.start_run(input_source="from the environment")
    assert started.created


def test_missing_configuration_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without arguments or variables the error names HANDRAIL_URL and HANDRAIL_TOKEN."""
    monkeypatch.delenv("HANDRAIL_URL", raising=False)
    monkeypatch.delenv("HANDRAIL_TOKEN", raising=False)
    with pytest.raises(MissingConfiguration, match=r"HANDRAIL_URL.*HANDRAIL_TOKEN"):
        HandrailSyncClient()


def test_missing_token_alone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a URL but no token, the error says the token is what is missing."""
    monkeypatch.delenv("HANDRAIL_TOKEN", raising=False)
    with pytest.raises(MissingConfiguration, match=r"missing: HANDRAIL_TOKEN \(or token=\)$"):
        HandrailClient("http://127.0.0.1:8080")


async def test_review_timeout_says_where_the_handoff_waits(
    client: TestClient[Any, Any], token: str
) -> None:
    """A wait that runs out names the handoff and the server, and says Slack is not set up."""
    base_url = str(client.make_url("")).rstrip("/")
    async with HandrailClient(base_url, token, wait=wait_none()) as api, api.run() as run:
        with pytest.raises(ReviewTimeout) as caught:
            await run.review(action="send_reply", draft="Hi", confidence=0.9, max_wait=0)
    message = str(caught.value)
    assert f"still open on {base_url}" in message
    assert "Slack is not configured on that server" in message
    assert "waiting in Slack" not in message


def decision(status: str, **fields: Any) -> Decision:
    values: dict[str, Any] = {
        "handoff_id": "h-1",
        "status": status,
        "outcome": None,
        "reviewer": None,
        "text": "Hi",
        "reason": None,
        "category": None,
    }
    return Decision(**{**values, **fields})


def test_expired_review_raises_approval_expired() -> None:
    """A handoff nobody decided in time stops the gated call with ApprovalExpired."""
    with pytest.raises(ApprovalExpired, match="nobody decided before the review timed out"):
        raise_unless_approved(decision("expired", text=None), "send_reply")


def test_shadow_case_is_never_permission_to_act() -> None:
    """A shadow-mode case stops the gated call with ShadowOnly, whatever was chosen."""
    with pytest.raises(ShadowOnly, match="shadow mode"):
        raise_unless_approved(decision("approved", shadow=True, text=None), "send_reply")


def test_unrestorable_redactions_stop_the_call() -> None:
    """Approved text that still holds redaction placeholders is never passed on."""
    unresolved = decision("edited", text="Call [REDACTED:phone]", unresolved_redactions=("phone",))
    with pytest.raises(UnresolvedRedactions, match=r"\(phone\)"):
        raise_unless_approved(unresolved, "send_reply")
