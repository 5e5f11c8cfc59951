"""Migrations: they build exactly the schema the code describes, and start-up checks them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from user_service.adapters.migrations import DatabaseNotMigratedError, require_head, upgrade_to_head
from user_service.adapters.tables import metadata


async def test_the_migrated_schema_matches_the_table_descriptions(
    migrated_database_url: str,
) -> None:
    engine = create_async_engine(migrated_database_url)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
        await require_head(engine)
    finally:
        await engine.dispose()


async def test_an_unmigrated_database_is_refused_with_the_fix_named(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        with pytest.raises(DatabaseNotMigratedError, match="make migrate"):
            await require_head(engine)
    finally:
        await engine.dispose()


def test_migrating_twice_is_harmless(migrated_database_url: str) -> None:
    upgrade_to_head(migrated_database_url)
