"""Domain events as `order.events.v1.OrderEvent` records (the orders.v1 contract)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from order_service.domain.events import OrderCancelled, OrderCreated, OrderEvent
from threadline_contracts.events.v1 import order_events_pb2 as events_pb2

EVENT_TYPES = {OrderCreated: "order.created", OrderCancelled: "order.cancelled"}


def event_type(event: OrderEvent) -> str:
    return EVENT_TYPES[type(event)]


def to_message(event: OrderEvent) -> events_pb2.OrderEvent:
    occur_time = Timestamp()
    occur_time.FromDatetime(event.occurred_at)
    order = event.order
    message = events_pb2.OrderEvent(
        event_id=str(event.event_id),
        occur_time=occur_time,
        order_id=str(order.id),
        user_id=str(order.user_id),
    )
    total = order.total
    if isinstance(event, OrderCreated):
        message.created.CopyFrom(
            events_pb2.OrderCreated(
                lines=[
                    events_pb2.OrderLine(
                        product_id=line.product_id,
                        quantity=line.quantity,
                        unit_price_minor_units=line.unit_price.minor_units,
                    )
                    for line in order.lines
                ],
                currency_code=total.currency_code,
                total_minor_units=total.minor_units,
            )
        )
    else:
        message.cancelled.CopyFrom(
            events_pb2.OrderCancelled(
                currency_code=total.currency_code, total_minor_units=total.minor_units
            )
        )
    return message
