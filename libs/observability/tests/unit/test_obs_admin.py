"""The admin server over real HTTP: OpenMetrics exemplars, health probes, draining."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)

from observability import Telemetry
from observability.fastapi import instrument_app

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@pytest.fixture
async def admin(telemetry: Telemetry) -> AsyncIterator[httpx.AsyncClient]:
    await telemetry.admin.start()
    async with httpx.AsyncClient(base_url=telemetry.admin.url) as client:
        yield client
    await telemetry.admin.stop()


async def test_openmetrics_scrape_has_exemplars_with_the_request_trace_id(
    telemetry: Telemetry, spans: InMemorySpanExporter, admin: httpx.AsyncClient
) -> None:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, str]:
        return {"id": order_id}

    instrument_app(app, telemetry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
        assert (await api.get("/orders/7")).status_code == 200
    (span,) = spans.get_finished_spans()

    response = await admin.get("/metrics", headers={"Accept": OPENMETRICS})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    bucket_lines = [
        line
        for line in response.text.splitlines()
        if line.startswith("http_server_request_duration_seconds_bucket{")
        and 'route="/orders/{order_id}"' in line
    ]
    exemplar_ids = {
        match.group(1)
        for line in bucket_lines
        if (match := re.search(r'# \{trace_id="([0-9a-f]{32})"\}', line))
    }
    assert exemplar_ids == {format(span.context.trace_id, "032x")}
    # The strict OpenMetrics parser accepts the whole exposition (names, exemplars, EOF).
    parsed = openmetrics_families(response.text)  # type: ignore[no-untyped-call]
    families = {family.name for family in parsed}
    assert {"http_server_request_duration_seconds", "db_pool_connections"} <= families


async def test_plain_prometheus_scrape_works_without_exemplars(
    telemetry: Telemetry, admin: httpx.AsyncClient
) -> None:
    telemetry.metrics.cache_hit("users")

    response = await admin.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain")
    assert 'cache_requests_total{cache="users",result="hit"} 1.0' in response.text
    assert "# {" not in response.text


async def test_probes_answer_200_while_checks_pass_and_503_when_one_fails(
    telemetry: Telemetry, admin: httpx.AsyncClient
) -> None:
    database_up = True

    async def database() -> None:
        if not database_up:
            raise ConnectionError("connection refused")

    async def cache() -> None:
        raise ConnectionError("redis is down")

    telemetry.health.add_check("database", database)
    telemetry.health.add_check("cache", cache, critical=False)

    assert (await admin.get("/startupz")).status_code == 503
    assert (await admin.get("/readyz")).json()["reasons"] == ["not started"]
    telemetry.health.mark_started()

    ready = await admin.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["state"] == "pass"
    assert ready.json()["checks"]["cache"] | {"duration_ms": 0} == {
        "state": "fail",
        "critical": False,
        "duration_ms": 0,
        "error": "ConnectionError: redis is down",
    }
    assert (await admin.get("/startupz")).status_code == 200

    database_up = False
    not_ready = await admin.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "fail"
    assert not_ready.json()["checks"]["database"]["error"] == "ConnectionError: connection refused"
    # Liveness says the process works; a dependency being down is not a reason to restart it.
    assert (await admin.get("/healthz")).status_code == 200


async def test_a_slow_check_times_out_and_fails_readiness(
    telemetry: Telemetry, admin: httpx.AsyncClient
) -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    telemetry.health.add_check("slow", hangs, timeout=0.05)
    telemetry.health.mark_started()

    response = await admin.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["slow"]["state"] == "timeout"


async def test_readiness_turns_503_as_soon_as_draining_starts(
    telemetry: Telemetry, admin: httpx.AsyncClient
) -> None:
    telemetry.health.mark_started()
    assert (await admin.get("/readyz")).status_code == 200

    telemetry.lifecycle.request_shutdown("test")

    response = await admin.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["draining"]
    assert (await admin.get("/healthz")).status_code == 200


async def test_unknown_paths_and_methods_are_refused(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/admin")).status_code == 404
    assert (await admin.post("/metrics")).status_code == 405
