"""How an order changes — placed, cancelled — and the event that announces each change.

Here rather than on the entity: the events carry the order (events.py imports orders.py), so
the entity announcing its own changes would make the two modules import each other.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from order_service.domain.events import OrderCancelled, OrderCreated
from order_service.domain.orders import Order, OrderLine, OrderStatus


def place_order(
    *,
    order_id: uuid.UUID,
    user_id: uuid.UUID,
    lines: tuple[OrderLine, ...],
    idempotency_key: str,
    request_fingerprint: str,
    now: datetime,
    event_id: uuid.UUID,
) -> tuple[Order, OrderCreated]:
    """A new order and the event that announces it."""
    order = Order(
        id=order_id,
        user_id=user_id,
        status=OrderStatus.CREATED,
        lines=lines,
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        created_at=now,
        updated_at=now,
    )
    return order, OrderCreated(event_id=event_id, occurred_at=now, order=order)


def cancel_order(
    order: Order, *, now: datetime, event_id: uuid.UUID
) -> tuple[Order, OrderCancelled | None]:
    """The cancelled order and its event; cancelling twice changes nothing and says nothing."""
    if order.status is OrderStatus.CANCELLED:
        return order, None
    cancelled = replace(order, status=OrderStatus.CANCELLED, updated_at=now)
    return cancelled, OrderCancelled(event_id=event_id, occurred_at=now, order=cancelled)
