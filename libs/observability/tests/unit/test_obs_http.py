"""The ASGI middleware: semconv spans, logs joined on trace_id, RED metrics with bounded labels."""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, get_current_span

from observability import Telemetry
from observability.fastapi import instrument_app
from observability.testing import isolated_telemetry

_log = logging.getLogger("test.http")


def _app(telemetry: Telemetry) -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def get_user(user_id: str) -> dict[str, str]:
        _log.info("looking up user", extra={"user_id": user_id})
        context = get_current_span().get_span_context()
        return {"trace_id": format(context.trace_id, "032x")}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "pass"}

    instrument_app(app, telemetry)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _series(telemetry: Telemetry, family: str) -> set[tuple[tuple[str, str], ...]]:
    return {
        tuple(sorted(sample.labels.items()))
        for metric in telemetry.metrics.registry.collect()
        if metric.name == family
        for sample in metric.samples
        if sample.name == f"{family}_count"
    }


async def test_log_line_inside_request_carries_the_active_span_trace_id(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    async with _client(_app(telemetry)) as client:
        response = await client.get("/users/42")

    (span,) = spans.get_finished_spans()
    (line,) = [line for line in json_logs() if line["message"] == "looking up user"]
    span_trace_id = format(span.context.trace_id, "032x")
    assert response.json()["trace_id"] == span_trace_id
    assert line["trace_id"] == span_trace_id
    assert line["span_id"] == format(span.context.span_id, "016x")
    assert line["user_id"] == "42"
    assert {"timestamp", "level", "service", "logger"} <= line.keys()
    assert (line["level"], line["service"], line["logger"]) == ("INFO", "test", "test.http")


async def test_server_span_follows_stable_http_semantic_conventions(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    async with _client(_app(telemetry)) as client:
        await client.get("/users/42", headers={"host": "api.example.com:8443"})

    (span,) = spans.get_finished_spans()
    assert span.name == "GET /users/{user_id}"
    assert span.kind is SpanKind.SERVER
    assert span.attributes is not None
    assert dict(span.attributes) == {
        "http.request.method": "GET",
        "url.path": "/users/42",
        "url.scheme": "http",
        "server.address": "api.example.com",
        "server.port": 8443,
        "http.route": "/users/{user_id}",
        "http.response.status_code": 200,
    }


async def test_fastapi_native_telemetry_does_not_add_a_second_server_span(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    # FastAPI traces on its own once it has a tracer provider (here given explicitly).
    app = FastAPI(telemetry={"tracer_provider": telemetry.tracer_provider})

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    instrument_app(app, telemetry)
    async with _client(app) as client:
        await client.get("/ping")

    assert [span.name for span in spans.get_finished_spans()] == ["GET /ping"]


async def test_incoming_traceparent_is_continued(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with _client(_app(telemetry)) as client:
        await client.get("/users/1", headers={"traceparent": parent})

    (span,) = spans.get_finished_spans()
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"


async def test_unhandled_error_is_a_500_span_with_the_exception(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    async with _client(_app(telemetry)) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "RuntimeError"
    assert [event.name for event in span.events] == ["exception"]
    assert (("method", "GET"), ("route", "/boom"), ("status_class", "5xx")) in _series(
        telemetry, "http_server_request_duration_seconds"
    )


async def test_health_and_metrics_paths_are_neither_traced_nor_measured(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    async with _client(_app(telemetry)) as client:
        assert (await client.get("/healthz")).status_code == 200

    assert spans.get_finished_spans() == ()
    assert _series(telemetry, "http_server_request_duration_seconds") == set()


async def test_ten_thousand_distinct_paths_produce_a_bounded_number_of_series(
    telemetry: Telemetry,
) -> None:
    app = _app(telemetry)
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    methods = ("GET", "POST", "BREW")
    for number in range(10_000):
        # Half hit a templated route with a distinct id, half are unknown paths.
        path = f"/users/{number}" if number % 2 else f"/scan/{number}/wp-admin.php"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": methods[number % 3],
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1234),
        }
        await app(scope, receive, send)

    series = _series(telemetry, "http_server_request_duration_seconds")
    routes = {dict(labels)["route"] for labels in series}
    assert routes == {"/users/{user_id}", "<unmatched>"}
    assert {dict(labels)["method"] for labels in series} == {"GET", "POST", "_OTHER"}
    # 2 routes x 3 methods x a few status classes, whatever the number of raw paths.
    assert len(series) <= 2 * 3 * 5
    assert sum(1 for message in sent if message["type"] == "http.response.start") == 10_000


@pytest.mark.parametrize("ratio", [0.0, 1.0])
async def test_requests_are_measured_whether_or_not_they_are_sampled(ratio: float) -> None:
    from observability.testing import isolated_telemetry  # noqa: PLC0415

    telemetry, spans = isolated_telemetry(traces_sampler_ratio=ratio)
    async with _client(_app(telemetry)) as client:
        await client.get("/users/7")

    assert len(spans.get_finished_spans()) == int(ratio)
    assert _series(telemetry, "http_server_request_duration_seconds") == {
        (("method", "GET"), ("route", "/users/{user_id}"), ("status_class", "2xx"))
    }
    telemetry.shutdown_sync()


async def test_a_sampled_request_writes_one_access_line_joined_on_its_trace_id(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    async with _client(_app(telemetry)) as client:
        await client.get("/users/42")
        await client.get("/healthz")

    (span,) = spans.get_finished_spans()
    (line,) = [line for line in json_logs() if line["logger"] == "observability.access"]
    assert line["trace_id"] == format(span.context.trace_id, "032x")
    assert line["span_id"] == format(span.context.span_id, "016x")
    assert line["http.route"] == "/users/{user_id}"
    assert line["http.response.status_code"] == 200
    assert line["level"] == "INFO"
    assert line["duration_ms"] >= 0


async def test_unsampled_requests_write_no_access_line_unless_they_fail(
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    telemetry, _ = isolated_telemetry(traces_sampler_ratio=0.0)
    try:
        async with _client(_app(telemetry)) as client:
            await client.get("/users/42")
            await client.get("/boom")
    finally:
        await telemetry.shutdown()

    access = [line for line in json_logs() if line["logger"] == "observability.access"]
    assert [(line["http.route"], line["level"]) for line in access] == [("/boom", "ERROR")]
    assert access[0]["http.response.status_code"] == 500
