"""The in-memory product catalog against real PostgreSQL: prices change within the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from order_service.adapters.catalog import CachedCatalog
from order_service.adapters.database import create_engine
from order_service.adapters.migrations import upgrade_to_head
from order_service.domain.money import Money

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(
        database_url, pool_size=2, max_overflow=0, pool_timeout_seconds=5, statement_timeout_ms=5000
    )
    yield engine
    await engine.dispose()


async def set_product(engine: AsyncEngine, product_id: str, *, price: int, active: bool) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE products SET unit_price_minor = :price, active = :active WHERE id = :id"),
            {"price": price, "active": active, "id": product_id},
        )


async def test_catalog_answers_from_memory_until_the_ttl_passes_then_reloads(
    engine: AsyncEngine,
) -> None:
    now = [0.0]
    catalog = CachedCatalog(engine, ttl_seconds=60, clock=lambda: now[0])
    first = await catalog.products(["tea-sampler", "no-such-product"])
    assert set(first) == {"tea-sampler"}
    old_price = first["tea-sampler"].unit_price

    await set_product(engine, "tea-sampler", price=old_price.minor_units + 100, active=True)
    await set_product(engine, "milk-frother", price=5000, active=False)
    now[0] = 59.0
    cached = await catalog.products(["tea-sampler", "milk-frother"])
    assert cached["tea-sampler"].unit_price == old_price
    assert "milk-frother" in cached

    now[0] = 60.0
    reloaded = await catalog.products(["tea-sampler", "milk-frother"])
    assert reloaded["tea-sampler"].unit_price == Money(
        old_price.currency_code, old_price.minor_units + 100
    )
    assert "milk-frother" not in reloaded  # deactivated products are unknown


async def test_concurrent_callers_share_one_load(engine: AsyncEngine) -> None:
    loads = 0

    def count_loads(*_: object) -> None:
        nonlocal loads
        loads += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count_loads)
    catalog = CachedCatalog(engine, ttl_seconds=60)
    answers = await asyncio.gather(*(catalog.products(["tea-sampler"]) for _ in range(20)))
    assert all("tea-sampler" in answer for answer in answers)
    assert loads == 1
