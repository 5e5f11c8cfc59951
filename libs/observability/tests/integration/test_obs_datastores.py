"""Statement and command spans against real PostgreSQL and Redis, inside the caller's trace;
an engine opened for a service (readiness, start-up check, disposal) on real PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AsyncExitStack

import opentelemetry.instrumentation.redis as redis_instrumentation
import pytest
import redis.asyncio as redis
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from observability import Telemetry
from observability.health import CheckState
from observability.redis import instrument_redis
from observability.sqlalchemy import ParentFollowingEngineTracer, instrument_engine, open_engine
from observability.testing import isolated_telemetry, unsampled_span

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


async def test_statements_of_unsampled_traces_skip_the_span_work(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named: list[str] = []
    operation_name = ParentFollowingEngineTracer._operation_name

    def counting_operation_name(self: ParentFollowingEngineTracer, *args: object) -> str:
        name: str = operation_name(self, *args)  # type: ignore[no-untyped-call]
        named.append(name)
        return name

    monkeypatch.setattr(ParentFollowingEngineTracer, "_operation_name", counting_operation_name)
    engine = create_async_engine(database_url)
    instrument_engine(engine, telemetry)
    unsampled = unsampled_span()
    try:
        async with engine.connect() as connection:
            with trace.use_span(unsampled):
                assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
            assert not spans.get_finished_spans()
            assert not named  # no attributes built for a span that would be dropped
            with telemetry.tracer("test").start_as_current_span("sampled use case"):
                assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await engine.dispose()

    statements = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert [span.name for span in statements] == ["SELECT"]
    assert statements[0].attributes is not None
    assert statements[0].attributes["db.system"] == "postgresql"
    assert named
    assert set(named) == {"SELECT"}


@pytest.mark.parametrize("parent_based", [True, False])
async def test_a_failed_statement_records_postgresqls_error_without_the_row(
    database_url: str, *, parent_based: bool
) -> None:
    # PostgreSQL's message names the values of the row it refused ("DETAIL:  Key
    # (email)=(...)"); the contrib tracer puts that message in the span status.
    sampler = "parentbased_always_on" if parent_based else "always_on"
    telemetry, spans = isolated_telemetry(traces_sampler=sampler)
    engine = create_async_engine(database_url, hide_parameters=True)
    instrument_engine(engine, telemetry)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE accounts (email text UNIQUE)"))
            await connection.execute(text("INSERT INTO accounts VALUES ('ada@example.com')"))
        with pytest.raises(IntegrityError, match="DETAIL"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO accounts VALUES ('ada@example.com')"))
    finally:
        await engine.dispose()
        telemetry.shutdown_sync()

    (failed,) = [span for span in spans.get_finished_spans() if span.status.description]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description is not None
    assert "duplicate key value violates unique constraint" in failed.status.description
    assert "DETAIL:  [REDACTED]" in failed.status.description
    assert "ada@example.com" not in repr(failed.status) + repr(failed.events)


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


async def test_redis_commands_of_unsampled_traces_skip_the_span_work(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    redis_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    formatted: list[list[str]] = []
    format_args = redis_instrumentation._format_command_args  # type: ignore[attr-defined]

    def counting_format_args(args: list[str]) -> object:
        formatted.append(args)
        return format_args(args)

    monkeypatch.setattr(redis_instrumentation, "_format_command_args", counting_format_args)
    client = instrument_redis(redis.Redis.from_url(redis_db_url), telemetry)
    unsampled = unsampled_span()
    try:
        with trace.use_span(unsampled):
            await client.set("user:1", "ada", ex=60)
        assert not formatted
        with telemetry.tracer("test").start_as_current_span("cache read"):
            assert await client.get("user:1") == b"ada"
    finally:
        await client.aclose()

    assert len(formatted) == 1
    names = [span.name for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert names == ["GET"]


async def connections_named(database_url: str, application_name: str) -> int:
    """How many server connections ``application_name`` holds, seen from a separate engine."""
    observer = create_async_engine(database_url)
    try:
        async with observer.connect() as connection:
            count = await connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            )
    finally:
        await observer.dispose()
    return int(count or 0)


async def connections_left(database_url: str, application_name: str) -> int:
    """`connections_named` once the server has let closed ones go (a backend exits just after
    its client's goodbye), or what is still there after two seconds."""
    for _ in range(20):
        if (held := await connections_named(database_url, application_name)) == 0:
            return 0
        await asyncio.sleep(0.1)
    return held


async def test_an_opened_engine_is_ready_checked_and_disposed_with_its_stack(
    telemetry: Telemetry, database_url: str
) -> None:
    application = "obs-open-engine"
    checked: list[AsyncEngine] = []

    async def startup_check(engine: AsyncEngine) -> None:
        checked.append(engine)

    engine = create_async_engine(
        database_url, connect_args={"server_settings": {"application_name": application}}
    )
    telemetry.health.mark_started()
    async with AsyncExitStack() as stack:
        opened = await open_engine(
            engine, telemetry, stack, pool_name="items", startup_check=startup_check
        )
        report = await telemetry.health.readiness()
        held = await connections_named(database_url, application)
        pool_gauge = telemetry.metrics.registry.get_sample_value(
            "db_pool_connections", {"pool": "items", "state": "idle"}
        )

    assert opened is engine
    assert checked == [engine]
    assert report.ok, report.as_dict()
    assert [(c.name, c.state) for c in report.checks] == [("postgres", CheckState.OK)]
    assert pool_gauge == 1  # instrumented: the readiness check's connection, back in the pool
    assert held == 1
    assert await connections_left(database_url, application) == 0  # disposed by the stack


async def test_an_engine_whose_database_is_away_turns_readiness_false(
    telemetry: Telemetry,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    engine = create_async_engine(
        f"postgresql+asyncpg://nobody:secret@127.0.0.1:{port}/none", connect_args={"timeout": 0.5}
    )
    telemetry.health.mark_started()
    async with AsyncExitStack() as stack:
        await open_engine(engine, telemetry, stack, pool_name="items")
        report = await telemetry.health.readiness()

    assert not report.ok
    assert report.reasons == ("check postgres fail",)


async def test_a_failed_startup_check_fails_the_start_and_still_disposes_the_engine(
    telemetry: Telemetry, database_url: str
) -> None:
    application = "obs-open-engine-refused"

    async def not_migrated(engine: AsyncEngine) -> None:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        raise LookupError("not at head")

    engine = create_async_engine(
        database_url, connect_args={"server_settings": {"application_name": application}}
    )
    with pytest.raises(LookupError, match="not at head"):
        async with AsyncExitStack() as stack:
            await open_engine(
                engine, telemetry, stack, pool_name="items", startup_check=not_migrated
            )

    assert await connections_left(database_url, application) == 0
    assert [c.name for c in (await telemetry.health.readiness()).checks] == []
