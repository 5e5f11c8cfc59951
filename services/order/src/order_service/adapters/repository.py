"""Orders and the product catalog in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from order_service.adapters.tables import orders, products
from order_service.domain.money import Money
from order_service.domain.orders import Order, OrderLine, OrderStatus, Product
from order_service.service_layer.ports import PageCursor

# Statements built once: executing a prepared Core statement with parameters skips the
# per-call construction and cache-key work (a large share of CreateOrder's CPU otherwise).
_BY_ID = select(orders).where(
    orders.c.id == bindparam("order_id"), orders.c.user_id == bindparam("user_id")
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_KEY = select(orders).where(
    orders.c.user_id == bindparam("user_id"), orders.c.idempotency_key == bindparam("key")
)
_INSERT_IF_NEW = (
    insert(orders)
    .on_conflict_do_nothing(index_elements=[orders.c.user_id, orders.c.idempotency_key])
    .returning(orders.c.id)
)
_PRODUCTS = select(products).where(
    products.c.id.in_(bindparam("ids", expanding=True)), products.c.active
)


def _lines_document(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price.minor_units,
        }
        for line in order.lines
    ]


def _order(row: Row[Any]) -> Order:
    currency = row.currency_code
    return Order(
        id=row.id,
        user_id=row.user_id,
        status=OrderStatus(row.status),
        lines=tuple(
            OrderLine(item["product_id"], item["quantity"], Money(currency, item["unit_price"]))
            for item in row.lines
        ),
        idempotency_key=row.idempotency_key,
        request_fingerprint=row.request_fingerprint,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlOrderRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _one(self, statement: Any, parameters: dict[str, Any]) -> Order | None:
        row = (await self._connection.execute(statement, parameters)).first()
        return None if row is None else _order(row)

    async def get(self, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        # Filtering on the owner makes another user's order indistinguishable from none.
        return await self._one(_BY_ID, {"order_id": order_id, "user_id": user_id})

    async def get_for_update(self, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        return await self._one(_BY_ID_FOR_UPDATE, {"order_id": order_id, "user_id": user_id})

    async def get_by_idempotency_key(self, *, user_id: uuid.UUID, key: str) -> Order | None:
        return await self._one(_BY_KEY, {"user_id": user_id, "key": key})

    async def add_if_new(self, order: Order) -> bool:
        row = {
            "id": order.id,
            "user_id": order.user_id,
            "status": order.status.value,
            "lines": _lines_document(order),
            "currency_code": order.total.currency_code,
            "total_minor": order.total.minor_units,
            "idempotency_key": order.idempotency_key,
            "request_fingerprint": order.request_fingerprint,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
        }
        return (await self._connection.execute(_INSERT_IF_NEW, row)).first() is not None

    async def update_status(self, order: Order) -> None:
        await self._connection.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(status=order.status.value, updated_at=order.updated_at)
        )

    async def list_page(
        self, *, user_id: uuid.UUID, after: PageCursor | None, limit: int
    ) -> Sequence[Order]:
        statement = select(orders).where(orders.c.user_id == user_id)
        if after is not None:
            # Keyset pagination: stable under concurrent inserts, no OFFSET scans.
            statement = statement.where(
                or_(
                    orders.c.created_at < after.created_at,
                    and_(orders.c.created_at == after.created_at, orders.c.id < after.order_id),
                )
            )
        statement = statement.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit)
        return [_order(row) for row in await self._connection.execute(statement)]


class SqlCatalog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        rows = await self._connection.execute(_PRODUCTS, {"ids": list(product_ids)})
        return {
            row.id: Product(row.id, row.name, Money(row.currency_code, row.unit_price_minor))
            for row in rows
        }
