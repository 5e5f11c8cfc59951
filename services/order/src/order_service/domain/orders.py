"""The order entity: lines priced from the catalog, a total, created or cancelled.

How an order changes, and the event that announces each change, is in lifecycle.py.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

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
