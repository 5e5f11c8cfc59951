"""Statement and command spans against real PostgreSQL and Redis, inside the caller's trace."""

from __future__ import annotations

import pytest
import redis.asyncio as redis
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from observability import Telemetry
from observability.redis import instrument_redis
from observability.sqlalchemy import instrument_engine

pytestmark = pytest.mark.integration


async def test_sql_statements_are_client_spans_of_the_use_case(
    telemetry: Telemetry, spans: InMemorySpanExporter, database_url: str
) -> None:
    engine = create_async_engine(database_url)
    instrument_engine(engine, telemetry)
    try:
        with telemetry.tracer("test").start_as_current_span("use case") as use_case:
            async with engine.connect() as connection:
                checked_out = telemetry.metrics.registry.get_sample_value(
                    "db_pool_connections", {"pool": "default", "state": "checked_out"}
                )
                assert (await connection.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    finally:
        await engine.dispose()

    statements = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert statements
    assert all(span.context.trace_id == use_case.get_span_context().trace_id for span in statements)
    assert checked_out == 1


async def test_redis_commands_are_client_spans(
    telemetry: Telemetry, spans: InMemorySpanExporter, redis_db_url: str
) -> None:
    client = instrument_redis(redis.Redis.from_url(redis_db_url), telemetry)
    try:
        with telemetry.tracer("test").start_as_current_span("cache read"):
            await client.set("user:1", "ada", ex=60)
            assert await client.get("user:1") == b"ada"
    finally:
        await client.aclose()

    names = [span.name for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert names == ["SET", "GET"]
