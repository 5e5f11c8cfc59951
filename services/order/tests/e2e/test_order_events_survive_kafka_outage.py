"""Kafka stopped while orders are created: every order succeeds, every event arrives, and the
user service's statistics count each order exactly once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from threadline_contracts.events.v1 import order_events_pb2
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

pytestmark = pytest.mark.e2e

ORDERS_WHILE_DOWN = 100


async def read_events(bootstrap: str, topic: str, *, at_least: int, within: float) -> list[Any]:
    """Every record on ``topic`` from the start, once ``at_least`` have arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < at_least:
                batch = await consumer.getmany(timeout_ms=500)
                records.extend(record for rs in batch.values() for record in rs)
        tail = await consumer.getmany(timeout_ms=1000)
        records.extend(record for rs in tail.values() for record in rs)
    finally:
        await consumer.stop()
    return records


async def test_orders_succeed_while_kafka_is_down_and_their_events_arrive_once_after(
    launch_stack: Any, private_kafka: Any
) -> None:
    stack = launch_stack(
        kafka=private_kafka.bootstrap,
        order_env={
            "ORDER_RELAY_BACKOFF_MAX_SECONDS": "1",
            "ORDER_RELAY_METRICS_INTERVAL_SECONDS": "0.2",
        },
    )
    user_id, token = stack.register("outage@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)

        def request(key: str) -> order_pb2.CreateOrderRequest:
            return order_pb2.CreateOrderRequest(
                idempotency_key=key,
                lines=[order_pb2.CreateOrderLine(product_id="tea-sampler", quantity=1)],
            )

        await orders.CreateOrder(request("before"), metadata=auth, timeout=10)
        assert (
            len(await read_events(private_kafka.bootstrap, stack.topic, at_least=1, within=60)) == 1
        )

        private_kafka.stop()
        created = await asyncio.gather(
            *(
                orders.CreateOrder(request(f"down-{n}"), metadata=auth, timeout=20)
                for n in range(ORDERS_WHILE_DOWN)
            )
        )
        assert len({response.order.id for response in created}) == ORDERS_WHILE_DOWN
        deadline = time.monotonic() + 10
        while stack.orders.metric("outbox_backlog_events") < ORDERS_WHILE_DOWN:
            assert time.monotonic() < deadline, "the backlog gauge never showed the waiting events"
            await asyncio.sleep(0.2)

        private_kafka.start()
        records = await read_events(
            private_kafka.bootstrap, stack.topic, at_least=ORDERS_WHILE_DOWN + 1, within=90
        )
    events = [order_events_pb2.OrderEvent.FromString(record.value) for record in records]
    event_ids = [event.event_id for event in events]
    assert len(set(event_ids)) == ORDERS_WHILE_DOWN + 1
    assert {event.order_id for event in events} >= {response.order.id for response in created}
    assert all(record.key == str(user_id).encode() for record in records)
    # The relay reconnected and emptied the outbox. (Whether a publish failed on the way depends
    # on timing: aiokafka may hold a batch through a short outage and deliver it afterwards.)
    assert stack.orders.metric("outbox_relay_connected") == 1
    deadline = time.monotonic() + 10
    while stack.orders.metric("outbox_backlog_events") > 0:
        assert time.monotonic() < deadline, "the outbox backlog never drained"
        await asyncio.sleep(0.2)

    # The consumer (which lost Kafka too) catches up, applying every order exactly once.
    expected_total = sum(response.order.total.minor_units for response in created) + 1590
    deadline = time.monotonic() + 90
    while stack.user(user_id, token)["order_count"] < ORDERS_WHILE_DOWN + 1:
        assert time.monotonic() < deadline, "the consumer never caught up"
        await asyncio.sleep(0.3)
    await asyncio.sleep(2)  # anything applied twice would show by now
    user = stack.user(user_id, token)
    assert user["order_count"] == ORDERS_WHILE_DOWN + 1
    assert user["total_spent_cents"] == expected_total
    duplicates = len(event_ids) - len(set(event_ids))
    assert stack.users.metric("order_events_total", outcome="duplicate") >= duplicates
    assert stack.users.metric("order_events_total", outcome="applied") == ORDERS_WHILE_DOWN + 1
