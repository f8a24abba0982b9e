"""``handrail doctor`` finds what is wrong in a deployment and says how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.doctor.checkup import diagnose
from bot.doctor.findings import Status, exit_status
from bot.doctor.render import render_checklist
from bot.settings import Settings
from sandbox.models import Channel
from sandbox.scopes import manifest_scopes
from sandbox.testing import running_emulator
from store.engine import create_engine
from store.migrate import upgrade_database
from tests.conftest import Database
from tests.doctor_harness import deployment, found, write_workflows, wrong
from tests.serve_process import free_port

ROOT = Path(__file__).resolve().parent.parent


async def test_a_healthy_deployment_passes_every_check(database: Database, tmp_path: Path) -> None:
    """Token, scopes, channels, people, mode and database are all ok, so the exit status is 0."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    assert (wrong(findings), exit_status(findings)) == ([], 0)
    checks = {f.check for f in findings}
    assert {"bot token", "scopes", "channel C0REVIEW", "channel C0ONCALL", "database"} <= checks
    assert {"person U0ALICE", "person U0BOB", "person U0OWNER", "slack mode"} <= checks
    assert render_checklist(findings).endswith(f"all {len(findings)} checks passed\n")


async def test_a_token_missing_a_scope_is_a_problem(database: Database, tmp_path: Path) -> None:
    """Slack's X-OAuth-Scopes lacking a needed scope is named, with how to add it."""
    write_workflows(tmp_path)
    granted = manifest_scopes(ROOT / "manifest.yml") - {"groups:history"}
    async with running_emulator(scopes=granted) as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    scopes = found(findings, "scopes")
    assert (scopes.status, scopes.detail) == (Status.PROBLEM, "the token lacks groups:history")
    assert "reinstall the app" in scopes.fix
    assert exit_status(findings) == 1


async def test_a_private_channel_without_the_bot_is_a_problem(
    database: Database, tmp_path: Path
) -> None:
    """A private review channel the bot was not invited to cannot be read: invite it."""
    write_workflows(tmp_path)
    channels = [
        Channel("C0REVIEW", "review", members={"U0ALICE"}, is_private=True),
        Channel("C0ONCALL", "oncall"),
    ]
    async with running_emulator(channels=channels) as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    channel = found(findings, "channel C0REVIEW")
    assert channel.status is Status.PROBLEM
    assert "private and the bot is not in it" in channel.detail
    assert "review_channel of ticket-triage" in channel.detail
    assert channel.fix.startswith("invite the bot")
    assert exit_status(findings) == 1


async def test_an_archived_channel_is_a_problem(database: Database, tmp_path: Path) -> None:
    """An archived alert channel takes no posts: unarchive it or point elsewhere."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.archive("C0ONCALL")
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    channel = found(findings, "channel C0ONCALL")
    assert channel.status is Status.PROBLEM
    assert channel.detail.startswith("#oncall is archived")
    assert channel.fix.startswith("unarchive #oncall")
    assert exit_status(findings) == 1


async def test_a_public_channel_without_the_bot_is_only_a_warning(
    database: Database, tmp_path: Path
) -> None:
    """Handrail posts there with chat:write.public and joins to read back, so it still works."""
    write_workflows(tmp_path)
    channels = [Channel("C0REVIEW", "review", members={"U0ALICE"}), Channel("C0ONCALL", "oncall")]
    async with running_emulator(channels=channels) as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    assert [(f.check, f.status) for f in wrong(findings)] == [("channel C0REVIEW", Status.WARNING)]
    assert exit_status(findings) == 0


async def test_an_unknown_reviewer_is_a_problem(database: Database, tmp_path: Path) -> None:
    """A reviewer ID nobody in the workspace has is named with the workflow and role."""

    def add_stranger(workflows: dict[str, Any]) -> None:
        workflows["invoice-extraction"]["reviewers"] = ["U0ALICE", "U0NOBODY"]

    write_workflows(tmp_path, add_stranger)
    async with running_emulator() as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    person = found(findings, "person U0NOBODY")
    assert person.status is Status.PROBLEM
    assert person.detail == "no such user in this workspace (reviewers of invoice-extraction)"
    assert exit_status(findings) == 1


async def test_a_deactivated_reviewer_is_a_problem(database: Database, tmp_path: Path) -> None:
    """Someone deactivated can no longer review or be paged: replace them."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.deactivate("U0BOB")
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    person = found(findings, "person U0BOB")
    assert (person.status, person.detail.split(":")[0]) == (Status.PROBLEM, "deactivated")
    assert person.fix == "replace U0BOB in reviewers of ticket-triage in workflows.yml"


async def test_an_unknown_or_empty_usergroup_is_a_problem(
    database: Database, tmp_path: Path
) -> None:
    """A usergroup that does not exist, or has nobody in it, leaves a role empty."""

    def use_groups(workflows: dict[str, Any]) -> None:
        workflows["ticket-triage"]["reviewers"] = ["S0NOPE"]
        workflows["ticket-triage"]["oncall"] = ["S0EMPTY"]

    write_workflows(tmp_path, use_groups)
    async with running_emulator(usergroups={"S0EMPTY": []}) as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    assert found(findings, "usergroup S0NOPE").detail.startswith("no such usergroup")
    assert found(findings, "usergroup S0EMPTY").detail.startswith("has no active members")


async def test_a_database_behind_its_migrations_is_a_problem(tmp_path: Path) -> None:
    """A schema at an older revision says which, and that `handrail db upgrade` fixes it."""
    write_workflows(tmp_path)
    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    engine = create_engine(database.url)
    await upgrade_database(engine, "0007")
    await engine.dispose()
    async with running_emulator() as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    db = found(findings, "database")
    assert db.status is Status.PROBLEM
    assert db.detail.startswith("the database schema is at revision 0007")
    assert db.fix == "run `handrail db upgrade`"


async def test_a_missing_sqlite_file_is_a_problem_and_is_not_created(tmp_path: Path) -> None:
    """The doctor does not create an empty database by looking at it."""
    write_workflows(tmp_path)
    path = tmp_path / "absent.db"
    settings = Settings(
        HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{path}",
        HANDRAIL_CONFIG=tmp_path / "workflows.yml",
    )
    findings = await diagnose(settings, environ={})
    assert found(findings, "database").detail == f"no SQLite file at {path}"
    assert not path.exists()


async def test_an_unreachable_callback_url_is_a_problem(database: Database, tmp_path: Path) -> None:
    """A callback URL nobody listens on is named with its workflow; decisions would wait."""
    url = f"http://127.0.0.1:{free_port()}/hook"

    def call_back(workflows: dict[str, Any]) -> None:
        workflows["ticket-triage"]["callback_url"] = url
        workflows["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"

    write_workflows(tmp_path, call_back)
    async with running_emulator() as emulator:
        settings = deployment(database, tmp_path, emulator.api_url)
        findings = await diagnose(settings, environ={"TRIAGE_CALLBACK_SECRET": "s"})
    callback = found(findings, "callback url of ticket-triage")
    assert callback.status is Status.PROBLEM
    assert callback.detail.startswith(f"{url} cannot be reached")
    assert exit_status(findings) == 1


async def test_a_missing_callback_secret_is_a_problem_and_the_rest_is_still_checked(
    database: Database, tmp_path: Path
) -> None:
    """The variable workflows.yml names must be set; Slack is checked all the same."""

    def call_back(workflows: dict[str, Any]) -> None:
        workflows["ticket-triage"]["callback_url"] = "http://127.0.0.1:9/hook"
        workflows["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"

    write_workflows(tmp_path, call_back)
    async with running_emulator() as emulator:
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    config = found(findings, "workflows.yml")
    assert (config.status, "TRIAGE_CALLBACK_SECRET" in config.detail) == (Status.PROBLEM, True)
    assert found(findings, "channel C0REVIEW").status is Status.OK


async def test_the_public_url_is_checked_when_configured(
    database: Database, tmp_path: Path, client: TestClient[Any, Any]
) -> None:
    """HANDRAIL_PUBLIC_URL answering /healthz is ok; one nobody answers on is a problem."""
    write_workflows(tmp_path)
    answering = str(client.make_url("/"))
    silent = f"http://127.0.0.1:{free_port()}"
    async with running_emulator() as emulator:
        up = await diagnose(
            deployment(database, tmp_path, emulator.api_url, HANDRAIL_PUBLIC_URL=answering),
            environ={},
        )
        down = await diagnose(
            deployment(database, tmp_path, emulator.api_url, HANDRAIL_PUBLIC_URL=silent),
            environ={},
        )
    assert found(up, "public url").status is Status.OK
    assert found(down, "public url").detail.startswith(f"{silent}/healthz cannot be reached")


async def test_slack_down_is_a_finding_not_a_traceback(database: Database, tmp_path: Path) -> None:
    """Slack answering 503 is one problem line; the checks that need Slack are skipped."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.down = True
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    slack = found(findings, "slack")
    assert (slack.status, slack.detail) == (
        Status.PROBLEM,
        f"Slack at {emulator.api_url} answered HTTP 503",
    )
    assert not [f for f in findings if f.check.startswith(("channel", "person"))]
    assert found(findings, "database").status is Status.OK


async def test_a_refused_token_is_a_problem(database: Database, tmp_path: Path) -> None:
    """A token Slack does not know (invalid_auth) says where to copy the right one from."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        settings = deployment(
            database,
            tmp_path,
            emulator.api_url,
            SLACK_BOT_TOKEN="xoxb-wrong",
        )
        findings = await diagnose(settings, environ={})
    token = found(findings, "bot token")
    assert (token.status, token.detail) == (
        Status.PROBLEM,
        "Slack refused SLACK_BOT_TOKEN (invalid_auth)",
    )


async def test_no_way_in_for_slack_is_a_problem(database: Database, tmp_path: Path) -> None:
    """A bot token with neither signing secret nor app token: clicks could never arrive."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        settings = deployment(database, tmp_path, emulator.api_url, SLACK_SIGNING_SECRET="")
        findings = await diagnose(settings, environ={})
    mode = found(findings, "slack mode")
    assert mode.status is Status.PROBLEM
    assert "SLACK_SIGNING_SECRET" in mode.fix


async def test_slack_rate_limiting_is_a_problem_saying_to_run_again(
    database: Database, tmp_path: Path
) -> None:
    """A 429 mid-way leaves checks unmade: the doctor says so instead of passing."""
    write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.inject("conversations.info", "ratelimited", retry_after=30)
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    slack = found(findings, "slack")
    assert slack.status is Status.PROBLEM
    assert slack.detail.startswith("Slack is rate limiting these calls (Retry-After 30 s)")
    assert slack.fix == "run handrail doctor again in a minute"


async def test_a_usergroup_whose_only_member_left_is_a_problem(
    database: Database, tmp_path: Path
) -> None:
    """On-call given as a usergroup whose one member was deactivated pages nobody."""

    def oncall_group(workflows: dict[str, Any]) -> None:
        workflows["ticket-triage"]["oncall"] = ["S0ONCALL"]

    write_workflows(tmp_path, oncall_group)
    async with running_emulator() as emulator:
        emulator.deactivate("U0ALICE")
        findings = await diagnose(deployment(database, tmp_path, emulator.api_url), environ={})
    group = found(findings, "usergroup S0ONCALL")
    assert group.status is Status.PROBLEM
    assert (
        group.detail == "has no active members, so nobody can act for it (oncall of ticket-triage)"
    )
