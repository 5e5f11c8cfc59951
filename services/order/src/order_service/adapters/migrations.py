"""Apply and check the Alembic migrations that ship in `order_service/migrations`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = "order_service:migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # ConfigParser interpolation would read a '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest revision (blocking; run it before serving)."""
    command.upgrade(alembic_config(database_url), "head")


class DatabaseNotMigratedError(RuntimeError):
    def __init__(self, current: set[str], expected: set[str]) -> None:
        super().__init__(
            f"the orders database is at revision {sorted(current) or 'none'}, this code needs "
            f"{sorted(expected)}: run `order-service migrate` first"
        )


async def require_head(engine: AsyncEngine) -> None:
    """Raise `DatabaseNotMigratedError` unless the database is at the code's head revision."""
    expected = set(ScriptDirectory.from_config(alembic_config("")).get_heads())

    def current_heads(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        current = await connection.run_sync(current_heads)
    if current != expected:
        raise DatabaseNotMigratedError(current, expected)
