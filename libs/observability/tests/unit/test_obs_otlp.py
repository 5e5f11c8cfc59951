"""The fast span encoder builds exactly the request the stock OTLP encoder builds."""

from __future__ import annotations

import time

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from observability.otlp import LeanOTLPSpanExporter, encode_spans_fast


def _spans() -> tuple[ReadableSpan, ...]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "orders", "n": 3}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    http = provider.get_tracer("observability.asgi", "1.0", schema_url="https://x/1.26.0")
    kafka = provider.get_tracer("observability.kafka")
    remote = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "abc"), ("other", "x-1")]),
    )
    parent = set_span_in_context(NonRecordingSpan(remote))
    with http.start_as_current_span(
        "GET /users/{id}", context=parent, kind=SpanKind.SERVER
    ) as span:
        span.set_attributes(
            {
                "http.request.method": "GET",
                "url.path": "/users/ü",
                "server.port": 8443,
                "negative": -5,
                "ratio": 0.25,
                "flag": True,
                "empty": "",
                "tags": ("a", "b"),
                "counts": [1, 2, 3],
            }
        )
        span.add_event("retry", {"attempt": 2})
        span.set_status(Status(StatusCode.ERROR, "upstream timed out"))
        with kafka.start_as_current_span(
            "process orders.v1", kind=SpanKind.CONSUMER, links=[Link(remote, {"why": "batch"})]
        ):
            pass
    try:
        with http.start_as_current_span("POST /orders"):
            raise ValueError("boom")
    except ValueError:
        pass
    with kafka.start_as_current_span("plain"):
        pass
    return exporter.get_finished_spans()


def test_fast_encoding_equals_the_stock_encoding() -> None:
    spans = _spans()

    fast = ExportTraceServiceRequest.FromString(encode_spans_fast(spans))

    assert fast == encode_spans(spans)
    assert len(fast.resource_spans[0].scope_spans) == 2


def test_the_exporter_translates_with_the_fast_encoder() -> None:
    spans = _spans()
    exporter = LeanOTLPSpanExporter(endpoint="http://127.0.0.1:1", insecure=True)
    try:
        assert exporter._translate_data(spans) == encode_spans(spans)
    finally:
        exporter.shutdown()


@pytest.mark.parametrize("value", [0, 127, 128, 2**31, 2**63 - 1, -1, -(2**63)])
def test_integers_survive_the_round_trip(value: int) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("s", attributes={"v": value}):
        time.sleep(0)

    request = ExportTraceServiceRequest.FromString(encode_spans_fast(exporter.get_finished_spans()))

    (attribute,) = request.resource_spans[0].scope_spans[0].spans[0].attributes
    assert attribute.value.int_value == value
