"""The DB pool gauge is read at scrape time, per engine."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine

from observability import Telemetry
from observability.sqlalchemy import instrument_engine


async def test_pool_state_is_exposed_for_each_engine(telemetry: Telemetry) -> None:
    # Building an engine opens no connection: no database needed to read an idle pool.
    users = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:1/users", pool_size=7)
    reports = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:1/reports", pool_size=2)
    instrument_engine(users, telemetry, pool_name="users")
    instrument_engine(reports, telemetry, pool_name="reports")

    def state(pool: str, name: str) -> float | None:
        return telemetry.metrics.registry.get_sample_value(
            "db_pool_connections", {"pool": pool, "state": name}
        )

    assert (state("users", "size"), state("users", "checked_out")) == (7, 0)
    assert state("reports", "size") == 2
    await users.dispose()
    await reports.dispose()
