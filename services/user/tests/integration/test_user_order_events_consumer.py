"""The orders.v1 consumer against real PostgreSQL, Redis and Kafka."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from observability import Telemetry, setup
from threadline_contracts.events.v1 import order_events_pb2
from user_service.adapters.cache import CacheCounters, RedisUserCache
from user_service.adapters.migrations import upgrade_to_head
from user_service.adapters.order_events import OrderEventsConsumer
from user_service.adapters.tables import users
from user_service.settings import Settings

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


def order_event(
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    *,
    cancelled: bool = False,
    total: int = 1000,
    event_id: uuid.UUID | None = None,
) -> bytes:
    event = order_events_pb2.OrderEvent(
        event_id=str(event_id or uuid.uuid4()), order_id=str(order_id), user_id=str(user_id)
    )
    event.occur_time.FromDatetime(datetime.now(UTC))
    if cancelled:
        event.cancelled.total_minor_units = total
    else:
        event.created.total_minor_units = total
        event.created.currency_code = "EUR"
    return event.SerializeToString()


class Harness:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        telemetry: Telemetry,
        cache: RedisUserCache,
        bootstrap: str,
        topic: str,
        dlq: str,
        group: str,
    ) -> None:
        self.engine, self.telemetry, self.cache = engine, telemetry, cache
        self.bootstrap, self.topic, self.dlq, self.group = bootstrap, topic, dlq, group
        self.consumer: OrderEventsConsumer | None = None

    def start(self) -> OrderEventsConsumer:
        self.consumer = OrderEventsConsumer(
            engine=self.engine,
            cache=self.cache,
            telemetry=self.telemetry,
            bootstrap_servers=self.bootstrap,
            topic=self.topic,
            dlq_topic=self.dlq,
            group=self.group,
            max_attempts=3,
            retry_backoff_seconds=0.01,
        )
        self.consumer.start()
        return self.consumer

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop(10)

    async def add_user(self) -> uuid.UUID:
        user_id = uuid.uuid4()
        now = datetime.now(UTC)
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(users).values(
                    id=user_id,
                    email=f"{user_id}@example.com",
                    full_name="Stats",
                    password_hash="x",
                    created_at=now,
                    updated_at=now,
                )
            )
        return user_id

    async def stats(self, user_id: uuid.UUID) -> tuple[int, int]:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users.c.order_count, users.c.total_spent_cents).where(
                        users.c.id == user_id
                    )
                )
            ).one()
        return row.order_count, row.total_spent_cents

    async def produce(self, *values: tuple[uuid.UUID, bytes]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for key, value in values:
                await producer.send_and_wait(self.topic, value, key=str(key).encode())
        finally:
            await producer.stop()

    def outcomes(self, outcome: str) -> float:
        value = self.telemetry.metrics.registry.get_sample_value(
            "order_events_total", {"outcome": outcome}
        )
        return value or 0.0


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "the condition never became true"
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture
async def harness(
    database_url: str, redis_db_url: str, kafka_bootstrap: str, kafka_topic: Topic, unique_name: str
) -> AsyncIterator[Harness]:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_async_engine(database_url)
    redis = Redis.from_url(redis_db_url)
    telemetry = setup(
        Settings(traces_sampler="always_on", admin_enabled=False),
        span_exporter=InMemorySpanExporter(),
        registry=CollectorRegistry(),
        set_global=False,
        configure_logs=False,
    )
    cache = RedisUserCache(
        redis,
        observer=CacheCounters(telemetry.metrics.cache_requests, cache="users"),
        ttl_seconds=60,
        ttl_jitter_ratio=0.1,
        negative_ttl_seconds=5,
        retry_after_seconds=1,
    )
    subject = Harness(
        engine=engine,
        telemetry=telemetry,
        cache=cache,
        bootstrap=kafka_bootstrap,
        topic=await kafka_topic(partitions=3),
        dlq=await kafka_topic(partitions=1),
        group=f"stats-{unique_name}",
    )
    try:
        yield subject
    finally:
        await subject.stop()
        await redis.aclose()
        await engine.dispose()


async def test_events_change_statistics_once_and_offsets_follow_the_transactions(
    harness: Harness,
) -> None:
    user = await harness.add_user()
    first, second = uuid.uuid4(), uuid.uuid4()
    repeated = uuid.uuid4()
    await harness.produce(
        (user, order_event(user, first, total=1000, event_id=repeated)),
        (user, order_event(user, first, total=1000, event_id=repeated)),  # a re-delivery
        (user, order_event(user, second, total=250)),
        (user, order_event(user, second, total=250, cancelled=True)),
    )
    harness.start()

    async def all_handled() -> bool:
        return harness.outcomes("applied") + harness.outcomes("duplicate") == 4

    await eventually(all_handled)
    assert await harness.stats(user) == (1, 1000)
    assert harness.outcomes("duplicate") == 1
    await harness.stop()

    # Offsets were committed: a new member of the group starts after the last record.
    probe = AIOKafkaConsumer(
        bootstrap_servers=harness.bootstrap, group_id=harness.group, enable_auto_commit=False
    )
    await probe.start()
    try:
        committed = {
            number: await probe.committed(TopicPartition(harness.topic, number))
            for number in range(3)
        }
        # All four records share a key, hence a partition; its offset is past the last one.
        (partition,) = [number for number, offset in committed.items() if offset is not None]
        assert committed[partition] == 4
    finally:
        await probe.stop()
    lag = harness.telemetry.metrics.registry.get_sample_value(
        "kafka_consumer_lag", {"topic": harness.topic, "partition": str(partition)}
    )
    assert lag == 0


async def test_a_message_that_keeps_failing_goes_to_the_dead_letter_topic(harness: Harness) -> None:
    user = await harness.add_user()
    order = uuid.uuid4()
    await harness.produce(
        (user, order_event(user, order, total=100)),
        # Undoing more than was spent breaks the table's CHECK: fails on every attempt.
        (user, order_event(user, order, total=5000, cancelled=True)),
        (user, b"\xffnot an order event"),
        (user, order_event(user, uuid.uuid4(), total=40)),
    )
    harness.start()

    async def all_handled() -> bool:
        return harness.outcomes("applied") == 2 and harness.outcomes("dead_lettered") == 2

    await eventually(all_handled)
    assert await harness.stats(user) == (2, 140)
    reader = AIOKafkaConsumer(
        harness.dlq, bootstrap_servers=harness.bootstrap, auto_offset_reset="earliest"
    )
    await reader.start()
    try:
        records: list[Any] = []
        async with asyncio.timeout(20):
            while len(records) < 2:
                batch = await reader.getmany(timeout_ms=500)
                records.extend(r for rs in batch.values() for r in rs)
    finally:
        await reader.stop()
    headers = [dict(record.headers) for record in records]
    assert [h["dlq-attempts"] for h in headers] == [b"3", b"0"]
    assert b"IntegrityError" in headers[0]["dlq-reason"]
    assert b"UndecodableEventError" in headers[1]["dlq-reason"]
    assert all(h["dlq-source-topic"] == harness.topic.encode() for h in headers)
