"""The migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.services import Services
from store.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(services: Services) -> None:
    """After every migration, autogenerate finds nothing left to change."""
    async with services.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
