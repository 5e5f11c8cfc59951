"""The order entity: lines priced from the catalog, a total, created or cancelled."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from order_service.domain.events import OrderCancelled, OrderCreated
from order_service.domain.money import Money


class OrderStatus(enum.StrEnum):
    CREATED = "created"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Product:
    """A catalog entry; its price is the only price an order line ever gets."""

    id: str
    name: str
    unit_price: Money


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True, slots=True)
class Order:
    id: uuid.UUID
    user_id: uuid.UUID
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    idempotency_key: str
    request_fingerprint: str
    created_at: datetime
    updated_at: datetime

    @property
    def total(self) -> Money:
        first, *rest = (line.total for line in self.lines)
        for amount in rest:
            first = first.plus(amount)
        return first

    @classmethod
    def place(
        cls,
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
        order = cls(
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

    def cancel(self, *, now: datetime, event_id: uuid.UUID) -> tuple[Order, OrderCancelled | None]:
        """The cancelled order and its event; cancelling twice changes nothing and says nothing."""
        if self.status is OrderStatus.CANCELLED:
            return self, None
        cancelled = replace(self, status=OrderStatus.CANCELLED, updated_at=now)
        return cancelled, OrderCancelled(event_id=event_id, occurred_at=now, order=cancelled)
