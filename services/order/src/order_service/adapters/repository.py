"""Orders in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from order_service.adapters.outbox import SqlOutbox, outbox_row
from order_service.adapters.tables import orders
from order_service.domain.events import OrderCreated
from order_service.domain.money import Money
from order_service.domain.orders import Order, OrderLine, OrderStatus
from order_service.service_layer.ports import PageCursor

# Statements built once: executing a prepared Core statement with parameters skips the
# per-call construction and cache-key work (a large share of CreateOrder's CPU otherwise).
_BY_ID = select(orders).where(
    orders.c.id == bindparam("order_id"), orders.c.user_id == bindparam("user_id")
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
# No SET list: it follows the column names among the parameters passed (`update_status`).
_UPDATE_STATUS = update(orders).where(orders.c.id == bindparam("order_id"))
_BY_KEY = select(orders).where(
    orders.c.user_id == bindparam("user_id"), orders.c.idempotency_key == bindparam("key")
)
_FIRST_PAGE = (
    select(orders)
    .where(orders.c.user_id == bindparam("user_id"))
    .order_by(orders.c.created_at.desc(), orders.c.id.desc())
    .limit(bindparam("limit"))
)
# Keyset pagination: stable under concurrent inserts, no OFFSET scans.
_NEXT_PAGE = _FIRST_PAGE.where(
    or_(
        orders.c.created_at < bindparam("after_time"),
        and_(
            orders.c.created_at == bindparam("after_time"),
            orders.c.id < bindparam("after_id"),
        ),
    )
)
# The order and the outbox row announcing it in ONE statement, hence one transaction and one
# round trip (no BEGIN/COMMIT). When the idempotency key is taken, `placed` is empty and no
# outbox row is written either. Plain SQL because SQLAlchemy cannot cache the compiled form
# of its ON CONFLICT construct (it would be compiled again on every call).
_INSERT_WITH_EVENT_IF_NEW = text(
    """
    WITH placed AS (
        INSERT INTO orders (id, user_id, status, lines, currency_code, total_minor,
                            idempotency_key, request_fingerprint, created_at, updated_at)
        VALUES (:id, :user_id, :status, :lines, :currency_code, :total_minor,
                :idempotency_key, :request_fingerprint, :created_at, :updated_at)
        ON CONFLICT (user_id, idempotency_key) DO NOTHING
        RETURNING id
    )
    INSERT INTO outbox (event_id, topic, key, value, headers)
    SELECT CAST(:event_id AS uuid), :topic, CAST(:key AS bytea), CAST(:value AS bytea),
           CAST(:headers AS jsonb)
    FROM placed
    RETURNING sequence
    """
).bindparams(bindparam("lines", type_=JSONB), bindparam("headers", type_=JSONB))


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
    def __init__(self, connection: AsyncConnection, *, outbox: SqlOutbox) -> None:
        self._connection = connection
        self._outbox = outbox

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

    async def add_if_new(self, order: Order, *, event: OrderCreated) -> bool:
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
            **outbox_row(event, topic=self._outbox.topic),
        }
        placed = await self._connection.execute(_INSERT_WITH_EVENT_IF_NEW, row)
        if placed.first() is None:
            return False
        self._outbox.added += 1
        return True

    async def update_status(self, order: Order) -> None:
        await self._connection.execute(
            _UPDATE_STATUS,
            {
                "order_id": order.id,
                "status": order.status.value,
                "updated_at": order.updated_at,
            },
        )

    async def list_page(
        self, *, user_id: uuid.UUID, after: PageCursor | None, limit: int
    ) -> Sequence[Order]:
        if after is None:
            rows = await self._connection.execute(_FIRST_PAGE, {"user_id": user_id, "limit": limit})
        else:
            rows = await self._connection.execute(
                _NEXT_PAGE,
                {
                    "user_id": user_id,
                    "after_time": after.created_at,
                    "after_id": after.order_id,
                    "limit": limit,
                },
            )
        return [_order(row) for row in rows]
