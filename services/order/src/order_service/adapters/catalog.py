"""The product catalog, read from PostgreSQL and kept in memory for a short while.

The catalog is small and changes rarely (the first migration seeds it; an operator edits it by
hand), while every CreateOrder prices its lines from it. So the whole active catalog is loaded
at once and served from memory for ``ttl_seconds``; a price or availability change reaches new
orders within that time. An order always carries the price it was placed at, so a cached
price is never applied to an order after the fact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from order_service.adapters.tables import products
from order_service.domain.money import Money
from order_service.domain.orders import Product

_ACTIVE_PRODUCTS = select(products).where(products.c.active)


class CachedCatalog:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._clock = clock
        self._products: dict[str, Product] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._loaded_at is not None and self._clock() - self._loaded_at < self._ttl

    async def products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        """The active products among ``product_ids`` (unknown or inactive ids are absent)."""
        if not self._fresh():
            async with self._lock:
                # Single flight: callers that waited on the lock find the catalog loaded.
                if not self._fresh():
                    await self._load()
        known = self._products
        return {product_id: known[product_id] for product_id in product_ids if product_id in known}

    async def _load(self) -> None:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_ACTIVE_PRODUCTS)
        self._products = {
            row.id: Product(row.id, row.name, Money(row.currency_code, row.unit_price_minor))
            for row in rows
        }
        self._loaded_at = self._clock()
