"""Alembic environment: runs on the connection handed over by ``store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.models import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with_own_engine() -> None:
    """Used by the ``alembic`` command line during development (autogenerate)."""
    import asyncio

    from store.engine import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("set sqlalchemy.url to run migrations without a connection")

    async def _run() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
        await engine.dispose()

    asyncio.run(_run())


handed_over = context.config.attributes.get("connection")
if handed_over is not None:
    run_migrations(handed_over)
else:
    run_with_own_engine()
