"""One trace across HTTP -> gRPC -> Kafka headers -> consumer, over real sockets where it counts.

The HTTP hop runs in-process (ASGI), the gRPC hop over a real grpc.aio server on an ephemeral
port, and the Kafka hop through the headers a producer would send (no broker: the integration
variant covers that).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from observability import Telemetry
from observability.fastapi import instrument_app
from observability.grpc import client_interceptors, server_interceptors
from observability.kafka import consume_span, extract_context, inject_headers

METHOD = "/test.v1.Orders/Create"


@dataclass
class FakeRecord:
    """What a broker would deliver: the producer's headers, unchanged."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture
async def grpc_target(telemetry: Telemetry) -> AsyncIterator[tuple[str, asyncio.Queue[FakeRecord]]]:
    outbox: asyncio.Queue[FakeRecord] = asyncio.Queue()

    async def create(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        if request == b"missing":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such product")
        if request == b"slow":
            await asyncio.sleep(30)
        headers = inject_headers([("event-id", b"e-1")])
        await outbox.put(FakeRecord("orders.v1", 0, 41, b"created", headers))
        return b"ok:" + request

    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    handler = grpc.unary_unary_rpc_method_handler(create)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.v1.Orders", {"Create": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", outbox
    await server.stop(None)


def _by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind, name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.kind is kind and span.name == name]
    return span


async def test_context_survives_http_grpc_kafka_headers_and_consumer(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    grpc_target: tuple[str, asyncio.Queue[FakeRecord]],
) -> None:
    target, outbox = grpc_target
    channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors(telemetry))
    create_order = channel.unary_unary(METHOD)
    app = FastAPI()

    @app.post("/orders")
    async def post_order() -> dict[str, str]:
        reply: bytes = await create_order(b"book", timeout=5)
        return {"reply": reply.decode()}

    instrument_app(app, telemetry)
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.post("/orders", headers={"traceparent": caller})
    assert response.json() == {"reply": "ok:book"}

    record = outbox.get_nowait()
    assert dict(record.headers)["event-id"] == b"e-1"
    with consume_span(telemetry, record, group="user-stats"):
        pass
    await channel.close()

    finished = spans.get_finished_spans()
    http = _by_kind(finished, SpanKind.SERVER, "POST /orders")
    grpc_client = _by_kind(finished, SpanKind.CLIENT, "test.v1.Orders/Create")
    grpc_server = _by_kind(finished, SpanKind.SERVER, "test.v1.Orders/Create")
    consumer = _by_kind(finished, SpanKind.CONSUMER, "process orders.v1")
    assert {format(span.context.trace_id, "032x") for span in finished} == {
        "4bf92f3577b34da6a3ce929d0e0e4736"
    }
    chain = [http, grpc_client, grpc_server, consumer]
    for parent, child in itertools.pairwise(chain):
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id, child.name
    assert grpc_server.attributes == {
        "rpc.system": "grpc",
        "rpc.service": "test.v1.Orders",
        "rpc.method": "Create",
        "rpc.grpc.status_code": 0,
    }
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.destination.name"] == "orders.v1"
    assert consumer.attributes["messaging.consumer.group.name"] == "user-stats"


async def test_grpc_status_codes_reach_span_and_metrics(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    grpc_target: tuple[str, asyncio.Queue[FakeRecord]],
) -> None:
    target, _ = grpc_target
    async with grpc.aio.insecure_channel(
        target, interceptors=client_interceptors(telemetry)
    ) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await channel.unary_unary(METHOD)(b"missing", timeout=5)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND

    # abort() sends the status before the handler unwinds: the server span may end a moment
    # after the client has its answer.
    async with asyncio.timeout(5):
        while not any(span.kind is SpanKind.SERVER for span in spans.get_finished_spans()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    server_span = _by_kind(spans.get_finished_spans(), SpanKind.SERVER, "test.v1.Orders/Create")
    assert server_span.attributes is not None
    assert server_span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    registry = telemetry.metrics.registry
    labels = {"grpc_service": "test.v1.Orders", "grpc_method": "Create", "grpc_code": "NotFound"}
    assert registry.get_sample_value("grpc_server_handling_seconds_count", labels) == 1
    assert registry.get_sample_value("grpc_client_handling_seconds_count", labels) == 1


@pytest.mark.parametrize(
    ("give_up", "expected"),
    [
        ("deadline", (grpc.StatusCode.DEADLINE_EXCEEDED, "DeadlineExceeded")),
        ("cancel", (grpc.StatusCode.CANCELLED, "Canceled")),
    ],
)
async def test_an_abandoned_call_is_recorded_with_the_reason_not_unknown(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    grpc_target: tuple[str, asyncio.Queue[FakeRecord]],
    give_up: str,
    expected: tuple[grpc.StatusCode, str],
) -> None:
    """The span and the metric name the reason, the metric in grpc-go's spelling."""
    code, label = expected
    target, _ = grpc_target
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(METHOD)(b"slow", timeout=0.3 if give_up == "deadline" else 30)
        if give_up == "cancel":
            await asyncio.sleep(0.3)
            call.cancel()
        with pytest.raises((grpc.aio.AioRpcError, asyncio.CancelledError)):
            await call

        # The server learns of it a moment later and unwinds the handler.
        async with asyncio.timeout(5):
            while not spans.get_finished_spans():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    server_span = _by_kind(spans.get_finished_spans(), SpanKind.SERVER, "test.v1.Orders/Create")
    assert server_span.attributes is not None
    assert server_span.attributes["rpc.grpc.status_code"] == code.value[0]
    labels = {"grpc_service": "test.v1.Orders", "grpc_method": "Create", "grpc_code": label}
    assert (
        telemetry.metrics.registry.get_sample_value("grpc_server_handling_seconds_count", labels)
        == 1
    )


def test_kafka_headers_round_trip_without_duplicating_traceparent(
    telemetry: Telemetry,
) -> None:
    stale = ("traceparent", b"00-11111111111111111111111111111111-2222222222222222-01")
    with telemetry.tracer("test").start_as_current_span("produce") as span:
        headers = inject_headers([stale, ("event-id", b"e-9")])

    assert [key for key, _ in headers].count("traceparent") == 1
    context = extract_context(headers)
    from opentelemetry.trace import get_current_span  # noqa: PLC0415

    extracted = get_current_span(context).get_span_context()
    assert extracted.trace_id == span.get_span_context().trace_id
    assert extracted.span_id == span.get_span_context().span_id
    assert extracted.is_remote


def test_a_failed_message_is_an_error_span_and_counted(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    record = FakeRecord("orders.v1", 2, 7, b"{}")

    with pytest.raises(ValueError, match="bad event"), consume_span(telemetry, record):
        raise ValueError("bad event")

    (span,) = spans.get_finished_spans()
    assert span.parent is None  # no headers: a new trace
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ValueError"
    assert (
        telemetry.metrics.registry.get_sample_value(
            "kafka_messages_consumed_total", {"topic": "orders.v1", "outcome": "error"}
        )
        == 1
    )


async def test_server_streaming_calls_are_traced_and_measured_on_both_sides(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    async def count(
        request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        for number in range(int(request)):
            yield str(number).encode()

    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    handler = grpc.unary_stream_rpc_method_handler(count)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.v1.Counter", {"Count": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", interceptors=client_interceptors(telemetry)
        ) as channel:
            replies = [
                reply async for reply in channel.unary_stream("/test.v1.Counter/Count")(b"3")
            ]
    finally:
        await server.stop(None)

    assert replies == [b"0", b"1", b"2"]
    labels = {"grpc_service": "test.v1.Counter", "grpc_method": "Count", "grpc_code": "OK"}
    registry = telemetry.metrics.registry
    async with asyncio.timeout(5):
        while registry.get_sample_value("grpc_client_handling_seconds_count", labels) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert registry.get_sample_value("grpc_server_handling_seconds_count", labels) == 1
    server_span = _by_kind(spans.get_finished_spans(), SpanKind.SERVER, "test.v1.Counter/Count")
    client_span = _by_kind(spans.get_finished_spans(), SpanKind.CLIENT, "test.v1.Counter/Count")
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.context.span_id


async def test_a_sampled_rpc_writes_one_access_line_joined_on_its_trace_id(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    grpc_target: tuple[str, asyncio.Queue[FakeRecord]],
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    target, _ = grpc_target
    async with grpc.aio.insecure_channel(target) as channel:
        await channel.unary_unary(METHOD)(b"widget", timeout=5)

    server_span = _by_kind(spans.get_finished_spans(), SpanKind.SERVER, "test.v1.Orders/Create")
    (line,) = [line for line in json_logs() if line["logger"] == "observability.access"]
    assert line["trace_id"] == format(server_span.context.trace_id, "032x")
    assert line["span_id"] == format(server_span.context.span_id, "016x")
    assert (line["rpc.service"], line["rpc.method"]) == ("test.v1.Orders", "Create")
    assert (line["rpc.grpc.status_code"], line["level"]) == ("OK", "INFO")
