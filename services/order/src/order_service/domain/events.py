"""Domain events: facts other services learn about through the outbox and Kafka."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from order_service.domain.orders import Order


@dataclass(frozen=True, slots=True)
class OrderCreated:
    event_id: uuid.UUID
    occurred_at: datetime
    order: Order


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    event_id: uuid.UUID
    occurred_at: datetime
    order: Order


OrderEvent = OrderCreated | OrderCancelled
