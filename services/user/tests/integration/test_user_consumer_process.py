"""The orders.v1 consumer's own process role (`user-service consume`), composed in this process
against real PostgreSQL, Redis and Kafka: what it is ready on, what it applies and invalidates,
and which metrics it exposes."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from observability import Telemetry, setup
from threadline_contracts.events.v1 import order_events_pb2
from user_service.adapters.migrations import upgrade_to_head
from user_service.adapters.tables import users
from user_service.consumer_main import build_consumer_process
from user_service.settings import Settings

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


def telemetry_for(settings: Settings) -> Telemetry:
    return setup(
        settings,
        span_exporter=InMemorySpanExporter(),
        registry=CollectorRegistry(),
        set_global=False,
        configure_logs=False,
    )


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def created_event(user_id: uuid.UUID, total: int) -> bytes:
    event = order_events_pb2.OrderEvent(
        event_id=str(uuid.uuid4()), order_id=str(uuid.uuid4()), user_id=str(user_id)
    )
    event.occur_time.FromDatetime(datetime.now(UTC))
    event.created.total_minor_units = total
    event.created.currency_code = "EUR"
    return event.SerializeToString()


async def test_consumer_process_is_ready_applies_events_and_invalidates_the_shared_cache(
    database_url: str,
    redis_db_url: str,
    kafka_bootstrap: str,
    kafka_topic: Topic,
    unique_name: str,
) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        orders_topic=await kafka_topic(partitions=3),
        orders_dlq_topic=await kafka_topic(partitions=1),
        orders_consumer_group=f"stats-{unique_name}",
        admin_enabled=False,
    )
    user_id = uuid.uuid4()
    engine = create_async_engine(database_url)
    redis = Redis.from_url(redis_db_url)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
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
    # A cached copy from before the order: the consumer must invalidate it.
    await redis.set(f"user:v1:{user_id}", json.dumps({"stale": True}))
    telemetry = telemetry_for(settings)
    try:
        async with AsyncExitStack() as stack:
            await build_consumer_process(settings, telemetry, stack)
            telemetry.mark_started()
            deadline = time.monotonic() + 30
            while not (report := await telemetry.health.readiness()).ok:
                assert time.monotonic() < deadline, report.as_dict()
                await asyncio.sleep(0.2)
            checks = {result.name: result.critical for result in report.checks}
            assert checks == {"postgres": True, "redis": False, "orders consumer": True}

            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
            await producer.start()
            try:
                await producer.send_and_wait(
                    settings.orders_topic, created_event(user_id, 1234), key=str(user_id).encode()
                )
            finally:
                await producer.stop()
            registry = telemetry.metrics.registry
            deadline = time.monotonic() + 30
            while registry.get_sample_value("order_events_total", {"outcome": "applied"}) != 1:
                assert time.monotonic() < deadline, "the event was never applied"
                await asyncio.sleep(0.1)
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users.c.order_count, users.c.total_spent_cents).where(
                        users.c.id == user_id
                    )
                )
            ).one()
        assert (row.order_count, row.total_spent_cents) == (1, 1234)
        assert await redis.exists(f"user:v1:{user_id}") == 0
        # Only the consumer's families: none of the API's business counters.
        assert registry.get_sample_value("users_registered_total") is None
    finally:
        await redis.aclose()
        await engine.dispose()


async def test_consumer_process_is_not_ready_while_kafka_is_unreachable(
    database_url: str, redis_db_url: str
) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_db_url,
        kafka_bootstrap_servers=f"127.0.0.1:{unused_port()}",
        admin_enabled=False,
    )
    telemetry = telemetry_for(settings)
    async with AsyncExitStack() as stack:
        await build_consumer_process(settings, telemetry, stack)
        telemetry.mark_started()
        await asyncio.sleep(1.0)
        report = await telemetry.health.readiness()
    assert not report.ok
    assert report.reasons == ("check orders consumer fail",), report.as_dict()
