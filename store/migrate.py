"""Apply Alembic migrations from code (``handrail db upgrade`` and ``handrail serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateSchema

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_database(
    engine: AsyncEngine, revision: str = "head", *, schema: str | None = None
) -> None:
    """Bring the schema of ``engine``'s database up to ``revision``.

    ``schema`` (PostgreSQL) is the one the engine was created for; it is created first when
    missing, so ``HANDRAIL_DATABASE_SCHEMA`` needs no manual step. An existing schema is
    left alone, so a database user without ``CREATE`` on the database can still use one an
    administrator made for it.
    """

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if schema is not None and connection.dialect.name == "postgresql":
            await _create_missing_schema(connection, schema)
        try:
            await check_schema(connection)
            return
        except SchemaMismatch as mismatch:
            if not mismatch.behind:
                raise
        await connection.run_sync(_upgrade)


async def _create_missing_schema(connection: AsyncConnection, schema: str) -> None:
    exists = await connection.scalar(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    )
    if not exists:
        await connection.execute(CreateSchema(schema, if_not_exists=True))


class SchemaMismatch(Exception):
    """The database's schema is not the one this Handrail was built for; ``message`` is
    the one line that says which way and what to run."""

    def __init__(self, message: str, *, behind: bool) -> None:
        super().__init__(message)
        self.message = message
        self.behind = behind


def head_revision() -> str:
    """The newest migration this Handrail knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have a head"
    return head


async def check_schema(connection: AsyncConnection) -> str:
    """The database's revision if it is exactly this Handrail's head; else ``SchemaMismatch``.

    A revision the packaged migrations do not know was written by a newer Handrail: running
    against it could drop what that version relies on, so nothing runs. An older one (or an
    empty database) needs ``handrail db upgrade``; only ``serve`` and ``db upgrade`` migrate.
    """
    current = await connection.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_revision()
    )
    head = head_revision()
    if current == head:
        return head
    if current is not None and not _known(current):
        raise SchemaMismatch(
            f"the database schema (revision {current}) is newer than this Handrail "
            f"(revision {head}): upgrade Handrail to the version that wrote it",
            behind=False,
        )
    found = "empty" if current is None else f"at revision {current}"
    raise SchemaMismatch(
        f"the database schema is {found} and this Handrail needs revision {head}: "
        "run `handrail db upgrade`",
        behind=True,
    )


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
