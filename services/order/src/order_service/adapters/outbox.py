"""The transactional outbox: events are rows written with the change they announce.

The row keeps the W3C trace context of the transaction that wrote it, so the relay can
publish the event as part of the request's trace even though it runs later, elsewhere.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import propagate
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from order_service.adapters.event_codec import event_type, to_message
from order_service.adapters.tables import outbox
from order_service.domain.events import OrderEvent
from threadline_contracts import EVENT_CONTENT_TYPE

_INSERT = insert(outbox)  # built once; executed with each row's parameters


def outbox_row(event: OrderEvent, *, topic: str) -> dict[str, Any]:
    """The outbox row announcing ``event``, with the trace context of the current span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {
        "event_id": event.event_id,
        "topic": topic,
        "key": str(event.order.user_id).encode(),
        "value": to_message(event).SerializeToString(),
        "headers": {
            **carrier,
            "event-id": str(event.event_id),
            "event-type": event_type(event),
            "content-type": EVENT_CONTENT_TYPE,
        },
    }


class SqlOutbox:
    """Outbox rows written on one connection; ``added`` counts them, so the unit of work knows
    to wake the relay once they are committed."""

    def __init__(self, connection: AsyncConnection, *, topic: str) -> None:
        self._connection = connection
        self.topic = topic
        self.added = 0

    async def add(self, event: OrderEvent) -> None:
        await self._connection.execute(_INSERT, outbox_row(event, topic=self.topic))
        self.added += 1
