"""Alembic environment: runs migrations over the service's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from order_service.adapters.database import create_migration_engine
from order_service.adapters.tables import metadata
from order_service.settings import Settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # One transaction for the whole upgrade: a failing step leaves the schema untouched.
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_migration_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    # `order-service migrate` passes the URL; `alembic -c services/order/alembic.ini` reads it
    # from the service's own settings (ORDER_DATABASE_URL).
    url = context.config.get_main_option("sqlalchemy.url") or (
        Settings().database_url.get_secret_value()
    )
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online(url))


main()
