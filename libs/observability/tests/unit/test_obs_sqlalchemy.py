"""The DB pool gauge is read at scrape time, per engine."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
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
    # One family for both pools: a second "# TYPE db_pool_connections" would break the scrape.
    exposition = generate_latest(telemetry.metrics.registry).decode()
    families = [family.name for family in text_string_to_metric_families(exposition)]
    assert families.count("db_pool_connections") == 1
    assert exposition.count("# TYPE db_pool_connections ") == 1
    await users.dispose()
    await reports.dispose()
