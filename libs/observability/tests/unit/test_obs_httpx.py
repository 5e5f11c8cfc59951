"""Outgoing HTTP: traceparent injected, a CLIENT span, client-side RED under a fixed peer."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from observability import Telemetry
from observability.httpx import instrument_client
from observability.testing import unsampled_span


async def test_outgoing_requests_carry_the_trace_and_are_measured(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if request.url.path == "/down" else 200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream), base_url="http://user")
    instrument_client(client, telemetry, peer="user-service")
    with telemetry.tracer("test").start_as_current_span("use case") as parent:
        await client.get("/v1/users/1")
        await client.get("/down")
    await client.aclose()

    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert all(request.headers["traceparent"].split("-")[1] == trace_id for request in seen)
    client_spans = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert len(client_spans) == 2
    registry = telemetry.metrics.registry
    for status_class in ("2xx", "5xx"):
        labels = {"peer": "user-service", "method": "GET", "status_class": status_class}
        assert registry.get_sample_value("http_client_request_duration_seconds_count", labels) == 1


async def test_a_request_without_response_is_measured_as_error(telemetry: Telemetry) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    instrument_client(client, telemetry, peer="user-service")
    with pytest.raises(httpx.ConnectError):
        await client.get("http://user/v1/users/1")
    await client.aclose()

    labels = {"peer": "user-service", "method": "GET", "status_class": "error"}
    count = telemetry.metrics.registry.get_sample_value(
        "http_client_request_duration_seconds_count", labels
    )
    assert count == 1


async def test_requests_of_unsampled_traces_carry_the_context_without_a_span(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream), base_url="http://user")
    instrument_client(client, telemetry, peer="user-service")
    unsampled = unsampled_span(0xABC, 0xDEF)
    with trace.use_span(unsampled):
        await client.get("/v1/users/1")
    await client.aclose()

    # The caller's own span id: no child span was made, not even a non-recording one.
    assert seen[0].headers["traceparent"] == f"00-{0xABC:032x}-{0xDEF:016x}-00"
    assert not spans.get_finished_spans()
    labels = {"peer": "user-service", "method": "GET", "status_class": "2xx"}
    count = telemetry.metrics.registry.get_sample_value(
        "http_client_request_duration_seconds_count", labels
    )
    assert count == 1
