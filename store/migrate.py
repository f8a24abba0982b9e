"""Apply Alembic migrations from code (``handrail db upgrade`` and ``handrail serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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
        await connection.run_sync(_upgrade)


async def _create_missing_schema(connection: AsyncConnection, schema: str) -> None:
    exists = await connection.scalar(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    )
    if not exists:
        await connection.execute(CreateSchema(schema, if_not_exists=True))
