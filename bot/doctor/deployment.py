"""The doctor's checks outside Slack: the mode's secrets, the database, the URLs.

The URL probes only ask whether something answers there: the public URL's ``/healthz``,
and a ``HEAD`` of each callback URL (any HTTP answer, even 405, proves a receiver is
listening; nothing is sent that it could take for a decision).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.doctor.findings import Finding, ok, problem, warning
from bot.outbox.webhook import shown_url
from bot.settings import Settings
from bot.start_failures import explain
from store.engine import create_engine
from store.migrate import SchemaMismatch, check_schema
from workflows.config.brief import HandrailConfig

#: How long the database or a URL may take to answer before it counts as not answering.
PROBE_TIMEOUT_SECONDS = 5.0


def check_mode(settings: Settings) -> Finding:
    """Slack can reach Handrail: Socket Mode needs an app token, HTTP a signing secret."""
    check = "slack mode"
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    secret = settings.slack_signing_secret
    if app_token:
        if not app_token.startswith("xapp-"):
            return problem(
                check,
                "SLACK_APP_TOKEN is set but is not an app-level token (xapp-…)",
                "create an app-level token with connections:write under Basic Information and "
                "put it in SLACK_APP_TOKEN",
            )
        return ok(check, "Socket Mode (SLACK_APP_TOKEN is set); no public URL needed")
    if secret is not None and secret.get_secret_value():
        return ok(check, "HTTP mode: Slack's requests are verified with SLACK_SIGNING_SECRET")
    if settings.slack_bot_token is None:
        return warning(
            check,
            "neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set (Slack is off)",
            "set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) with the "
            "bot token",
        )
    return problem(
        check,
        "neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set: messages go out, but no "
        "click, modal or slash command comes in",
        "set SLACK_SIGNING_SECRET (Basic Information → Signing Secret) for HTTP mode, or "
        "SLACK_APP_TOKEN (xapp-…) for Socket Mode",
    )


async def check_database(settings: Settings) -> Finding:
    """The database answers and its schema is exactly this Handrail's head revision."""
    check = "database"
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return problem(
            check,
            f"no SQLite file at {missing}",
            "run `handrail db upgrade` to create it, or fix HANDRAIL_DATABASE_URL",
        )
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                revision = await check_schema(connection)
    except SchemaMismatch as mismatch:
        detail, _, fix = mismatch.message.rpartition(": ")
        return problem(check, detail, fix)
    except TimeoutError:
        return problem(
            check,
            f"did not answer within {PROBE_TIMEOUT_SECONDS:g} s",
            "check that the database is running and reachable from here",
        )
    except (SQLAlchemyError, OSError) as exc:
        failure = explain(exc, settings)
        if failure is not None:
            detail, _, fix = failure.message.partition("; ")
            return problem(check, detail, fix or "fix HANDRAIL_DATABASE_URL")
        return problem(check, f"cannot be queried: {_cause(exc)}", "fix HANDRAIL_DATABASE_URL")
    finally:
        await engine.dispose()
    return ok(check, f"reachable, schema at revision {revision} (current)")


def _missing_sqlite_file(url: str) -> Path | None:
    """An SQLite file that does not exist yet (connecting would create it empty)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def _cause(exc: BaseException) -> str:
    """The driver's own words, first line only: no SQL, no parameters, no URL."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(original).splitlines() or [type(original).__name__])[0][:200]


async def check_public_url(settings: Settings, session: aiohttp.ClientSession) -> Finding | None:
    """``HANDRAIL_PUBLIC_URL/healthz`` answers, when a public URL is configured at all."""
    if "public_url" not in settings.model_fields_set:
        return None
    check = "public url"
    url = settings.public_url.rstrip("/") + "/healthz"
    failure = await _probe(session, "GET", url)
    if failure is not None:
        return problem(
            check,
            f"{shown_url(url)} {failure}",
            "start `handrail serve` there, or fix the proxy in front of it or HANDRAIL_PUBLIC_URL",
        )
    return ok(check, f"{shown_url(url)} answers")


async def check_callbacks(config: HandrailConfig, session: aiohttp.ClientSession) -> list[Finding]:
    """Each workflow's ``callback_url`` has a receiver listening."""
    found = []
    for name, workflow in config.workflows.items():
        if workflow.callback_url is None:
            continue
        url = str(workflow.callback_url)
        check = f"callback url of {name}"
        failure = await _probe(session, "HEAD", url, any_status=True)
        if failure is None:
            found.append(ok(check, f"{shown_url(url)} answers"))
        else:
            found.append(
                problem(
                    check,
                    f"{shown_url(url)} {failure}: decisions wait in the outbox until it does",
                    f"start the receiver, or correct callback_url of {name} in workflows.yml",
                )
            )
    return found


async def _probe(
    session: aiohttp.ClientSession, method: str, url: str, *, any_status: bool = False
) -> str | None:
    """None when ``url`` answers (2xx, or any status with ``any_status``), else why not."""
    try:
        async with (
            asyncio.timeout(PROBE_TIMEOUT_SECONDS),
            session.request(method, url, allow_redirects=False) as response,
        ):
            if any_status or response.status < 300:
                return None
            return f"answered HTTP {response.status}"
    except TimeoutError:
        return f"did not answer within {PROBE_TIMEOUT_SECONDS:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__
        return f"cannot be reached ({reason})"
