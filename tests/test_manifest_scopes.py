"""manifest.yml asks for exactly the bot scopes Handrail's own Slack calls need."""

from __future__ import annotations

import re
from pathlib import Path

from bot.doctor.scopes import REQUIRED_SCOPES
from sandbox.scopes import KIND_SCOPED, METHOD_SCOPES, WRITE_PUBLIC, manifest_scopes

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
#: Where Handrail talks to Slack (the emulator and the demo are not Handrail's calls).
SOURCES = ("bot", "handlers", "workflows", "store")
SKIPPED = ("bot/demo/", "bot/sandbox_run.py")
CALL = re.compile(r"\bclient\.((?:chat|conversations|users|usergroups|views|files|auth)_\w+)")

#: The conversations Handrail writes to: review and alert channels, public or private
#: (any channel ID is accepted), and DMs to on-call people (escalations).
WRITTEN_KINDS = ("channels", "groups", "im")
#: slack_sdk helpers that make several Web API calls: files_upload_v2 asks for an upload
#: URL, POSTs the bytes there (no method, no scope) and completes the upload.
COMPOSITE = {"files.upload.v2": {"files.getUploadURLExternal", "files.completeUploadExternal"}}


def slack_methods() -> set[str]:
    """Every Web API method the code calls, e.g. ``chat.postMessage``."""
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(SKIPPED):
                continue
            found |= {m.replace("_", ".") for m in CALL.findall(path.read_text("utf-8"))}
    for helper, methods in COMPOSITE.items():
        if helper in found:
            found = (found - {helper}) | methods
    return found


def needed_scopes() -> set[str]:
    """The scopes those methods need in the conversation kinds Handrail writes to."""
    needed = {"commands"}  # the manifest's slash commands
    for method in slack_methods():
        if method in KIND_SCOPED:
            needed |= {f"{kind}:{KIND_SCOPED[method]}" for kind in WRITTEN_KINDS}
        else:
            needed |= METHOD_SCOPES[method]
    # Handrail posts in public review channels it was never invited to.
    return needed | {WRITE_PUBLIC}


def test_every_method_called_has_its_scopes_known() -> None:
    """Each Web API method Handrail calls is one whose required scopes the emulator knows."""
    unknown = {m for m in slack_methods() if m not in METHOD_SCOPES and m not in KIND_SCOPED}
    assert not unknown


def test_the_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    """No scope is missing (Slack would refuse the call) and none is asked for unused."""
    assert manifest_scopes(MANIFEST) == needed_scopes()


def test_dms_are_opened_before_they_are_read() -> None:
    """Handrail DMs people through conversations.open, so it needs im:write and im:history."""
    assert {"conversations.open", "conversations.history"} <= slack_methods()


def test_the_doctor_checks_for_exactly_the_scopes_the_code_needs() -> None:
    """``handrail doctor`` compares Slack's granted scopes with that same derived set."""
    assert needed_scopes() == REQUIRED_SCOPES
