"""Every load request carries a trace context the services continue, and the synthetic marker."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from threadline_loadtests.tracing import LoadTracer

SAMPLED = 0x01  # the W3C trace-flags bit
RANDOM_TRACE_ID = 0x02  # Trace Context level 2; the SDK sets it on the ids it draws


def test_headers_carry_traceparent_of_the_client_span_and_synthetic_baggage() -> None:
    spans = InMemorySpanExporter()
    tracer = LoadTracer(sample_ratio=1.0, exporter=spans)

    with tracer.client_call("GET /v1/users/me", attributes={"http.request.method": "GET"}) as call:
        headers = dict(call.headers)

    (span,) = spans.get_finished_spans()
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert version == "00"
    assert int(flags, 16) & SAMPLED
    assert trace_id == call.trace_id == format(span.context.trace_id, "032x")
    assert span_id == format(span.context.span_id, "016x")
    assert headers["baggage"] == "synthetic=true"
    assert span.kind is SpanKind.CLIENT
    assert span.name == "GET /v1/users/me"
    assert span.resource.attributes["service.name"] == "threadline-loadtests"


def test_an_unsampled_request_still_propagates_its_trace_id() -> None:
    spans = InMemorySpanExporter()
    tracer = LoadTracer(sample_ratio=0.0, exporter=spans)

    with tracer.client_call("rpc") as call:
        traceparent = call.headers["traceparent"]

    assert not call.sampled
    assert traceparent.split("-")[1] == call.trace_id != "0" * 32
    # Not sampled: the services' parent-based samplers drop it too.
    assert not int(traceparent.rsplit("-", 1)[1], 16) & SAMPLED
    assert call.headers["baggage"] == "synthetic=true"
    assert spans.get_finished_spans() == ()


def test_the_sample_ratio_decides_which_requests_get_a_recorded_span() -> None:
    spans = InMemorySpanExporter()
    draws = iter([0.05, 0.5, 0.0999, 0.1])
    tracer = LoadTracer(sample_ratio=0.1, exporter=spans, draw=lambda: next(draws))

    calls = []
    for name in ["a", "b", "c", "d"]:
        with tracer.client_call(name) as call:
            call.set_attribute("rpc.grpc.status_code", 0)
            call.failed("UNAVAILABLE")
            calls.append(call)

    assert [call.sampled for call in calls] == [True, False, True, False]
    assert [span.name for span in spans.get_finished_spans()] == ["a", "c"]
    for call in calls:
        flags = int(call.headers["traceparent"].rsplit("-", 1)[1], 16)
        assert bool(flags & SAMPLED) is call.sampled
        assert flags & RANDOM_TRACE_ID  # as the SDK marks the ids it draws


def test_unsampled_requests_carry_valid_ids_of_their_own() -> None:
    tracer = LoadTracer(sample_ratio=0.0)

    parents = set()
    for _ in range(200):
        with tracer.client_call("rpc") as call:
            version, trace_id, span_id, flags = call.headers["traceparent"].split("-")
            assert (version, len(trace_id), len(span_id), flags) == ("00", 32, 16, "02")
            assert trace_id == call.trace_id
            assert int(trace_id, 16) != 0
            assert int(span_id, 16) != 0
            parents.add((trace_id, span_id))

    assert len(parents) == 200


def test_each_request_starts_its_own_trace() -> None:
    tracer = LoadTracer(sample_ratio=1.0, exporter=InMemorySpanExporter())

    trace_ids = set()
    for _ in range(50):
        with tracer.client_call("rpc") as call:
            trace_ids.add(call.trace_id)

    assert len(trace_ids) == 50


def test_a_failure_marks_the_span_as_an_error() -> None:
    spans = InMemorySpanExporter()
    tracer = LoadTracer(sample_ratio=1.0, exporter=spans)

    with tracer.client_call("rpc") as call:
        call.failed("UNAVAILABLE")
    with pytest.raises(TimeoutError), tracer.client_call("rpc"):
        raise TimeoutError

    failed, raised = spans.get_finished_spans()
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "UNAVAILABLE"
    assert raised.status.status_code is StatusCode.ERROR
    assert raised.events[0].name == "exception"


def test_refuses_a_ratio_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        LoadTracer(sample_ratio=1.5)
