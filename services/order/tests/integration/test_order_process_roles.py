"""The gRPC service and the relay as separate process roles, composed in this process against
real PostgreSQL and Kafka: what each one is ready on and which metrics each one exposes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text

from observability import Telemetry
from observability.health import HealthReport
from order_service.adapters.migrations import upgrade_to_head
from order_service.relay_main import build_relay_process
from order_service.settings import Settings
from order_service.testing import RunningOrders, free_port, in_memory_telemetry

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


async def readiness_within(telemetry: Telemetry, seconds: float, *, ok: bool) -> HealthReport:
    """The readiness report once its verdict is ``ok``; the last one when time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        report = await telemetry.health.readiness()
        if report.ok is ok or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.2)


async def test_relay_process_is_ready_once_postgres_answers_and_kafka_is_connected(
    database_url: str, kafka_bootstrap: str, kafka_topic: Topic
) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        orders_topic=await kafka_topic(),
    )
    telemetry, _ = in_memory_telemetry()
    async with AsyncExitStack() as stack:
        relay = await build_relay_process(settings, telemetry, stack)
        telemetry.mark_started()
        report = await readiness_within(telemetry, 30, ok=True)
        assert report.ok, report.as_dict()
        checks = {result.name: result for result in report.checks}
        assert set(checks) == {"postgres", "kafka"}
        assert all(result.critical for result in checks.values())
        assert relay.connected
    registry = telemetry.metrics.registry
    # Its own families only: no gRPC-service counter and no backlog gauge (the service's).
    assert registry.get_sample_value("outbox_events_published_total") == 0
    assert registry.get_sample_value("orders_created_total") is None
    assert registry.get_sample_value("outbox_backlog_events") is None


async def test_relay_process_is_not_ready_while_kafka_is_unreachable(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        relay_backoff_max_seconds=0.5,
    )
    telemetry, _ = in_memory_telemetry()
    async with AsyncExitStack() as stack:
        await build_relay_process(settings, telemetry, stack)
        telemetry.mark_started()
        await asyncio.sleep(1.5)
        report = await telemetry.health.readiness()
    assert not report.ok
    assert report.reasons == ("check kafka fail",), report.as_dict()


async def test_service_without_relay_still_reports_the_outbox_backlog(
    start_orders: Callable[..., Awaitable[RunningOrders]],
) -> None:
    orders = await start_orders(relay_enabled=False, relay_metrics_interval_seconds=0.1)
    async with orders.app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox (event_id, topic, key, value, headers) "
                "SELECT gen_random_uuid(), 'orders.v1', 'k'::bytea, ''::bytea, '{}'::jsonb "
                "FROM generate_series(1, 3)"
            )
        )
    registry = orders.telemetry.metrics.registry
    deadline = time.monotonic() + 10
    while registry.get_sample_value("outbox_backlog_events") != 3:
        assert time.monotonic() < deadline, "the backlog gauge never showed the waiting rows"
        await asyncio.sleep(0.1)
    assert registry.get_sample_value("outbox_oldest_event_age_seconds") is not None
    # No relay in this process, so no relay gauge that would read "disconnected".
    assert registry.get_sample_value("outbox_relay_connected") is None
