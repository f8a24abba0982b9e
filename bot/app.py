"""``build_app``: the one wiring point. Nothing here runs at import time."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from aiohttp import web

from bot import readiness
from bot.api import lists as api_lists
from bot.api import otlp as api_otlp
from bot.api import parked as api_parked
from bot.api import pause as api_pause
from bot.api import routes as api
from bot.api import stats as api_stats
from bot.api.errors import REQUEST_LINE_READ_MAX, error_middleware
from bot.api.path_ids import path_id_middleware
from bot.decisions.recorder import DecisionRecorder
from bot.outbox.runtime import OutboxRuntime
from bot.renderers import pause as renderers_pause
from bot.renderers.alerts import register_alert_renderers
from bot.renderers.chart_uploads import register_chart_uploads
from bot.renderers.registry import Renderers, default_renderers
from bot.scheduler import mount_scheduler
from bot.services import SERVICES, Services
from bot.settings import Settings
from bot.slack.app import mount_slack
from bot.wakeups import Wakeups, choose_transport
from store.engine import create_engine, create_sessions
from store.migrate import check_schema, upgrade_database
from store.repositories.workflows import create_missing_workflows
from workflows.backtest.promotion import note_mode_changes
from workflows.clock import Clock, system_clock
from workflows.config.brief import HandrailConfig, load_config

log = logging.getLogger("handrail")


def build_services(
    settings: Settings,
    *,
    config: HandrailConfig | None = None,
    clock: Clock = system_clock,
    environ: Mapping[str, str] | None = None,
) -> Services:
    """Load the config (failing loudly on a bad file) and open the engine.

    ``environ`` given, the variables workflows.yml names must be set in it (see
    ``load_config``).
    """
    if config is None:
        config = load_config(settings.config_path, environ=environ)
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    return Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=clock,
        wakeups=Wakeups(choose_transport(settings)),
    )


async def prepare_database(services: Services, *, migrate: bool = True) -> None:
    """Apply migrations (or, with ``migrate=False``, insist they were applied) and make sure
    every configured workflow has its row.

    A schema behind or ahead of this Handrail raises ``SchemaMismatch`` with its one line.
    """
    if migrate:
        await upgrade_database(services.engine, schema=services.settings.database_schema)
    else:
        async with services.engine.connect() as connection:
            await check_schema(connection)
    async with services.sessions() as db, db.begin():
        await create_missing_workflows(db, services.config.workflows, services.clock())


def warn_about_slack(settings: Settings) -> None:
    """Say once, at start, what a partial Slack set-up leaves out."""
    if not settings.slack_configured:
        log.warning(
            "Slack delivery is off (SLACK_BOT_TOKEN is not set): the API and the ledger "
            "work, and handoffs wait in the outbox until Slack is configured."
        )
    elif not settings.slack_reachable:
        log.warning(
            "Slack cannot reach Handrail (neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN "
            "is set): messages are posted, but button clicks, modals and slash commands "
            "are not received, so nobody can decide a handoff. Set SLACK_SIGNING_SECRET "
            "(HTTP mode, /slack/events) or SLACK_APP_TOKEN (Socket Mode)."
        )


def build_app(
    settings: Settings,
    *,
    services: Services | None = None,
    migrate: bool = True,
) -> web.Application:
    """The aiohttp application with the API mounted; start-up migrates the database."""
    services = services or build_services(settings, environ=os.environ)
    # The timer is outermost: errors become responses inside it, so it sees every status.
    # Path IDs are checked inside the error middleware, which shapes their 404.
    app = web.Application(
        middlewares=[api.timing_middleware, error_middleware, path_id_middleware],
        client_max_size=settings.max_body_bytes,
        handler_args={"max_line_size": REQUEST_LINE_READ_MAX},
    )
    app[SERVICES] = services
    api.add_routes(app)
    api_pause.add_routes(app)
    api_parked.add_routes(app)
    api_otlp.add_routes(app)
    api_stats.add_routes(app)
    api_lists.add_routes(app)
    readiness.add_routes(app)
    if settings.slack_configured and settings.slack_reachable:
        mount_slack(app, services)
    outbox = OutboxRuntime(services, renderers=build_renderers(services))
    recorder = DecisionRecorder(services)

    async def on_startup(_app: web.Application) -> None:
        await prepare_database(services, migrate=migrate)
        async with services.sessions() as db, db.begin():
            await note_mode_changes(db, config=services.config, now=services.clock())
        await recorder.start()
        await services.wakeups.start()
        if settings.outbox_worker_enabled:
            await outbox.start()
        warn_about_slack(settings)

    async def on_cleanup(_app: web.Application) -> None:
        await recorder.stop()
        if settings.outbox_worker_enabled:
            await outbox.stop()
        await services.wakeups.stop()
        await services.engine.dispose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    if settings.scheduler_enabled:
        mount_scheduler(app, services)
    return app


def build_renderers(services: Services) -> Renderers:
    """Every renderer the outbox worker may be asked for: handoffs, pauses, alerts, digests."""
    renderers = default_renderers()
    renderers_pause.register(renderers)
    register_alert_renderers(renderers, config=services.config)
    register_chart_uploads(renderers, config=services.config)
    return renderers
