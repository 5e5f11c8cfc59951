"""Fault flags on the HTTP edge: the flagged route fails or waits, the span and metric say so."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Telemetry
from observability.changes import Actor
from observability.fastapi import instrument_app

OPERATOR = Actor("test", "127.0.0.1")


@pytest.fixture
def client(telemetry: Telemetry) -> httpx.AsyncClient:
    app = FastAPI()

    @app.get("/users/{user_id:int}")
    async def get_user(user_id: str) -> dict[str, str]:
        return {"id": user_id}

    @app.get("/other")
    async def other() -> dict[str, str]:
        return {}

    instrument_app(app, telemetry)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_flagged_route_answers_an_injected_503_problem(
    telemetry: Telemetry, spans: InMemorySpanExporter, client: httpx.AsyncClient
) -> None:
    fault = telemetry.faults.set(
        target="GET /users/{user_id}", error_ratio=1.0, latency_ms=0, ttl_seconds=30, actor=OPERATOR
    )

    faulted = await client.get("/users/7")
    untouched = await client.get("/other")

    assert faulted.status_code == 503
    assert faulted.headers["content-type"] == "application/problem+json"
    assert faulted.json()["type"].endswith("injected-fault")
    assert faulted.json()["fault_id"] == fault.id
    assert untouched.status_code == 200
    span = next(s for s in spans.get_finished_spans() if s.name == "GET /users/{user_id:int}")
    assert span.attributes is not None
    assert span.attributes["fault.injected"] is True
    assert span.attributes["http.response.status_code"] == 503
    assert [event.name for event in span.events] == ["fault.injected"]
    duration = telemetry.metrics.registry.get_sample_value(
        "http_server_request_duration_seconds_count",
        {"method": "GET", "route": "/users/{user_id:int}", "status_class": "5xx"},
    )
    assert duration == 1


async def test_latency_is_added_and_the_request_still_served(
    telemetry: Telemetry, client: httpx.AsyncClient
) -> None:
    telemetry.faults.set(
        target="*", error_ratio=0.0, latency_ms=150, ttl_seconds=30, actor=OPERATOR
    )

    started = time.perf_counter()
    response = await client.get("/other")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.15
    counted = telemetry.metrics.registry.get_sample_value(
        "fault_injections_total", {"target": "*", "kind": "latency"}
    )
    assert counted == 1


async def test_after_clear_nothing_is_injected(
    telemetry: Telemetry, client: httpx.AsyncClient
) -> None:
    telemetry.faults.set(target="*", error_ratio=1.0, latency_ms=0, ttl_seconds=30, actor=OPERATOR)
    assert (await client.get("/other")).status_code == 503

    telemetry.faults.clear(actor=OPERATOR)

    assert (await client.get("/other")).status_code == 200
