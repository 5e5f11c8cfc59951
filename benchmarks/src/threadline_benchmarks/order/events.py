"""The order benchmark's event path: the outbox relay's throughput, and commit-to-consumed
latency (from the event's `occur_time`, stamped in the transaction that writes it, to its
arrival at a Kafka consumer) under paced CreateOrder calls."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC
from typing import Any

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from observability import setup
from order_service.adapters.database import create_engine
from order_service.adapters.metrics import RelayMetrics
from order_service.main import build_relay
from order_service.settings import Settings
from threadline_contracts.events.v1 import order_events_pb2

__all__ = ["KAFKA", "PACED_PRODUCT", "commit_to_consumed", "relay_throughput"]

KAFKA = "127.0.0.1:9092"
# The paced phase's orders are told apart on the topic by their first product.
PACED_PRODUCT = "tea-sampler"
PACED_OFFSET = 10**8


async def commit_to_consumed(
    create: Callable[[int, str], Coroutine[Any, Any, Any]], topic: str, *, rate: int, seconds: float
) -> dict[str, float]:
    """Paced CreateOrder calls; latency from the event's occur_time to its arrival here."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="latest")
    await consumer.start()
    await consumer.seek_to_end()
    latencies: list[float] = []
    expected = int(rate * seconds)
    done = asyncio.Event()

    async def receive() -> None:
        async for record in consumer:
            event = order_events_pb2.OrderEvent.FromString(record.value)
            if event.created.lines and event.created.lines[0].product_id == PACED_PRODUCT:
                latencies.append(time.time() - event.occur_time.ToDatetime(UTC).timestamp())
                if len(latencies) >= expected:
                    done.set()

    receiver = asyncio.create_task(receive())
    interval = 1 / rate
    start = time.perf_counter()
    pending: list[asyncio.Task[Any]] = []
    for n in range(expected):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(create(PACED_OFFSET * rate + n, PACED_PRODUCT)))
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    failed = sum(isinstance(outcome, BaseException) for outcome in outcomes)
    expected -= failed
    if len(latencies) >= expected:
        done.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await done.wait()
    receiver.cancel()
    await consumer.stop()
    ordered = sorted(latencies) or [float("nan")]

    def pick(q: float) -> float:
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000

    return {
        "rate": rate,
        "sent": len(pending),
        "failed": failed,
        "received": len(ordered),
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


async def relay_throughput(url: str, topic: str, *, rows: int) -> dict[str, float]:
    """Fill the outbox with ``rows`` events, then time one relay publishing all of them.

    The relay runs in this process (otherwise idle), so its CPU per event is this process's
    CPU time over the run divided by the events.
    """
    settings = Settings(
        database_url=url,
        kafka_bootstrap_servers=KAFKA,
        orders_topic=topic,
        admin_enabled=False,
        # As in the RPC phases: spans are sampled and built, exporters are off.
        traces_exporter="none",
        logs_exporter="none",
    )
    telemetry = setup(
        settings, registry=CollectorRegistry(), set_global=False, configure_logs=False
    )
    engine = create_engine(
        url, pool_size=4, max_overflow=0, pool_timeout_seconds=5, statement_timeout_ms=60000
    )
    value = order_events_pb2.OrderEvent(event_id=str(uuid.uuid4())).SerializeToString() * 4
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DELETE FROM outbox")
        await connection.exec_driver_sql(
            "INSERT INTO outbox (event_id, topic, key, value, headers) "
            "SELECT gen_random_uuid(), $1, convert_to((g % 1000)::text, 'UTF8'), $2, "
            "jsonb_build_object('event-id', g::text, 'traceparent', "
            "'00-' || md5(g::text) || '-' || left(md5(g::text), 16) || '-00') "
            "FROM generate_series(1, $3) AS g",
            (topic, value, rows),
        )
    relay = build_relay(settings, telemetry, engine, RelayMetrics(telemetry.metrics))
    started, cpu_started = time.perf_counter(), time.process_time()
    relay.start()
    try:
        while True:
            async with engine.connect() as connection:
                left = (await connection.exec_driver_sql("SELECT count(*) FROM outbox")).scalar()
            if left == 0:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        await relay.stop(10)
        await engine.dispose()
        await telemetry.shutdown()
    return {
        "rows": rows,
        "seconds": elapsed,
        "events_per_second": rows / elapsed,
        "cpu_us_per_event": cpu / rows * 1e6,
    }
