"""The gRPC server interceptor end to end, with a real grpc.aio server and client.

The span and its parent, the RED observation and its exemplar, the access line, an escaped
exception's own grpc.aio line, a fault flag failing the call inside its span, and a passed
deadline counted as DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from observability import Telemetry
from observability.changes import Actor
from observability.grpc import server_interceptors
from observability.grpc.faults import INJECTED_FAULT_REASON

SERVICE = "test.v1.Things"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
OPERATOR = Actor("test", "127.0.0.1")

Handlers = Mapping[str, grpc.RpcMethodHandler]
Lines = Callable[[], list[dict[str, object]]]


def _serve(telemetry: Telemetry, handlers: Handlers) -> grpc.aio.Server:
    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    return server


async def _ok(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    # The handler runs inside the SERVER span: its logs and child spans join the trace.
    return format(trace.get_current_span().get_span_context().trace_id, "032x").encode()


async def _broken(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    raise RuntimeError("the database said no")


async def _slow(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    await asyncio.sleep(5)
    return b""


HANDLERS: Handlers = {
    name: grpc.unary_unary_rpc_method_handler(behaviour)
    for name, behaviour in {"Ok": _ok, "Broken": _broken, "Slow": _slow}.items()
}


@asynccontextmanager
async def _channel(telemetry: Telemetry) -> AsyncIterator[grpc.aio.Channel]:
    server = _serve(telemetry, HANDLERS)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(None)


def _server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    return span


def _count(telemetry: Telemetry, method: str, code: str) -> float | None:
    return telemetry.metrics.registry.get_sample_value(
        "grpc_server_handling_seconds_count",
        {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code},
    )


async def test_a_call_is_one_server_span_under_its_parent_measured_and_logged(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    json_logs: Lines,
) -> None:
    async with _channel(telemetry) as channel:
        answer = await channel.unary_unary(f"/{SERVICE}/Ok")(
            b"", metadata=(("traceparent", TRACEPARENT),), timeout=5
        )

    assert answer == TRACE_ID.encode()
    span = _server_span(spans)
    assert span.name == f"{SERVICE}/Ok"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert span.parent.span_id == 0x00F067AA0BA902B7
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": SERVICE,
        "rpc.method": "Ok",
        "rpc.grpc.status_code": 0,
    }
    assert _count(telemetry, "Ok", "OK") == 1
    exemplars = {
        sample.exemplar.labels["trace_id"]
        for family in telemetry.metrics.registry.collect()
        for sample in family.samples
        if family.name == "grpc_server_handling_seconds" and sample.exemplar is not None
    }
    assert exemplars == {TRACE_ID}
    (line,) = [line for line in json_logs() if line["message"] == "rpc handled"]
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == format(span.context.span_id, "016x")
    assert line["rpc.grpc.status_code"] == "OK"


async def test_an_exception_is_unknown_on_the_span_and_grpcs_own_line_carries_the_trace(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    json_logs: Lines,
) -> None:
    async with _channel(telemetry) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await channel.unary_unary(f"/{SERVICE}/Broken")(
                b"", metadata=(("traceparent", TRACEPARENT),), timeout=5
            )

    assert raised.value.code() is grpc.StatusCode.UNKNOWN
    span = _server_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    assert _count(telemetry, "Broken", "Unknown") == 1
    (line,) = [line for line in json_logs() if line["logger"] == "grpc._cython.cygrpc"]
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == format(span.context.span_id, "016x")


async def test_a_fault_flag_fails_the_call_inside_its_span(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
) -> None:
    fault = telemetry.faults.set(
        target=f"/{SERVICE}/Ok", error_ratio=1.0, latency_ms=0, ttl_seconds=30, actor=OPERATOR
    )
    async with _channel(telemetry) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await channel.unary_unary(f"/{SERVICE}/Ok")(b"", timeout=5)

    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    details = dict(raised.value.trailing_metadata() or ())["grpc-status-details-bin"]
    info = error_details_pb2.ErrorInfo()
    status_pb2.Status.FromString(details).details[0].Unpack(info)
    assert (info.reason, info.metadata["fault_id"]) == (INJECTED_FAULT_REASON, fault.id)
    span = _server_span(spans)
    assert (span.attributes or {})["fault.injected"] is True
    assert (span.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.UNAVAILABLE.value[0]
    assert _count(telemetry, "Ok", "Unavailable") == 1


async def test_a_passed_deadline_is_deadline_exceeded_not_unknown(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
) -> None:
    async with _channel(telemetry) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await channel.unary_unary(f"/{SERVICE}/Slow")(b"", timeout=0.3)
        # The server learns of the deadline on its own clock: wait for the span to end.
        for _ in range(50):
            if spans.get_finished_spans():
                break
            await asyncio.sleep(0.05)

    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    span = _server_span(spans)
    assert (span.attributes or {})["rpc.grpc.status_code"] == 4
    assert _count(telemetry, "Slow", "DeadlineExceeded") == 1
