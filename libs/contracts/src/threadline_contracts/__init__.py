"""Threadline's protobuf contracts, generated from services/order/proto by `make proto`.

* `threadline_contracts.order.v1.order_pb2` / `order_pb2_grpc`: the ``order.v1.OrderService``
  gRPC API (messages, client stub, servicer base).
* `threadline_contracts.events.v1.order_events_pb2`: ``order.events.v1.OrderEvent``, the value
  of every record on Kafka topic ``orders.v1`` (schema notes in the .proto).
"""

from __future__ import annotations

ORDERS_TOPIC = "orders.v1"
ORDERS_DLQ_TOPIC = "orders.v1.dlq"
EVENT_CONTENT_TYPE = "application/x-protobuf; schema=order.events.v1.OrderEvent"

__all__ = ["EVENT_CONTENT_TYPE", "ORDERS_DLQ_TOPIC", "ORDERS_TOPIC"]
