"""The relay against real PostgreSQL and Kafka: every row once, keyed, traced, then gone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text

from order_service.adapters.metrics import RelayMetrics
from order_service.main import build_relay
from order_service.testing import RunningOrders
from threadline_contracts.events.v1 import order_events_pb2
from threadline_contracts.order.v1 import order_pb2

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


async def consume(bootstrap: str, topic: str, count: int, *, within: float = 20.0) -> list[Any]:
    """Read ``count`` records from the start of ``topic`` (fails after ``within`` seconds)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for partition_records in batch.values():
                    records.extend(partition_records)
        # Anything beyond `count` would be a duplicate: give it a moment to show up.
        extra = await consumer.getmany(timeout_ms=500)
        records.extend(record for rs in extra.values() for record in rs)
    finally:
        await consumer.stop()
    return records


async def test_created_orders_reach_kafka_once_keyed_by_user_with_trace_headers(
    start_orders: Callable[..., Awaitable[RunningOrders]], kafka_bootstrap: str, kafka_topic: Topic
) -> None:
    topic = await kafka_topic(partitions=3)
    orders = await start_orders(
        relay_enabled=True, kafka_bootstrap_servers=kafka_bootstrap, orders_topic=topic
    )
    users = [uuid.uuid4() for _ in range(3)]
    created = {}
    for index in range(12):
        user = users[index % 3]
        response = await orders.stub.CreateOrder(
            order_pb2.CreateOrderRequest(
                idempotency_key=f"k{index}",
                lines=[order_pb2.CreateOrderLine(product_id="tea-sampler", quantity=1 + index)],
            ),
            metadata=orders.auth(user),
        )
        created[response.order.id] = user
    records = await consume(kafka_bootstrap, topic, 12)
    assert len(records) == 12
    server_spans = {
        format(span.context.trace_id, "032x")
        for span in orders.spans.get_finished_spans()
        if span.name == "order.v1.OrderService/CreateOrder"
    }
    for record in records:
        event = order_events_pb2.OrderEvent.FromString(record.value)
        headers = {key: value.decode() for key, value in record.headers}
        assert record.key == str(created[event.order_id]).encode()
        assert headers["event-id"] == event.event_id
        assert headers["event-type"] == "order.created"
        assert event.WhichOneof("payload") == "created"
        assert event.created.total_minor_units == 1590 * event.created.lines[0].quantity
        assert headers["traceparent"].split("-")[1] in server_spans
    async with orders.app.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar() == 0
    registry = orders.telemetry.metrics.registry
    assert registry.get_sample_value("outbox_events_published_total") == 12
    producer_spans = [s for s in orders.spans.get_finished_spans() if s.name == f"send {topic}"]
    assert len(producer_spans) == 12
    assert {format(s.context.trace_id, "032x") for s in producer_spans} == server_spans
    # The relay builds its own record batches: each record lands on the partition the
    # producer's default partitioner picks for its key, and a user's events keep their order.
    partitions = [0, 1, 2]
    for record in records:
        assert record.partition == DefaultPartitioner()(record.key, partitions, partitions)
    for user in users:
        placed = [
            event.created.lines[0].quantity
            for event in (
                order_events_pb2.OrderEvent.FromString(record.value)
                for record in sorted(records, key=lambda r: (r.partition, r.offset))
                if record.key == str(user).encode()
            )
        ]
        assert placed == sorted(placed)


async def test_two_relays_on_one_outbox_publish_each_row_exactly_once(
    start_orders: Callable[..., Awaitable[RunningOrders]], kafka_bootstrap: str, kafka_topic: Topic
) -> None:
    topic = await kafka_topic(partitions=3)
    orders = await start_orders(
        relay_batch_size=50, kafka_bootstrap_servers=kafka_bootstrap, orders_topic=topic
    )
    total = 2000
    async with orders.app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox (event_id, topic, key, value, headers) "
                "SELECT gen_random_uuid(), :topic, convert_to(g::text, 'UTF8'), ''::bytea, "
                "jsonb_build_object('event-id', g::text) FROM generate_series(1, :n) AS g"
            ),
            {"topic": topic, "n": total},
        )
    relay_metrics = RelayMetrics(orders.telemetry.metrics)
    relays = [
        build_relay(orders.settings, orders.telemetry, orders.app.engine, relay_metrics)
        for _ in range(2)
    ]
    for relay in relays:
        relay.start()
    try:
        records = await consume(kafka_bootstrap, topic, total, within=60)
    finally:
        await asyncio.gather(*(relay.stop(5.0) for relay in relays))
    ids = [dict(record.headers)["event-id"] for record in records]
    assert len(ids) == total
    assert len(set(ids)) == total
