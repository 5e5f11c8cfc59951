"""The admin port's /admin routes over real HTTP: faults, log level, sampling; refusals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from observability import Telemetry
from observability.admin import MAX_BODY_BYTES, _parse_head
from observability.testing import isolated_telemetry

TOKEN = "admin-controls-test-token"
FAULT = {
    "target": "GET /v1/users/{user_id}",
    "error_ratio": 0.5,
    "latency_ms": 20,
    "ttl_seconds": 60,
    "actor": "unit test",
}


@pytest.fixture(autouse=True)
def _restore_log_levels() -> Iterator[None]:
    loggers = [logging.getLogger(), logging.getLogger("observability")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


async def _serve(**settings: Any) -> tuple[Telemetry, httpx.AsyncClient]:
    telemetry, _ = isolated_telemetry(**settings)
    await telemetry.admin.start()
    return telemetry, httpx.AsyncClient(base_url=telemetry.admin.url)


@pytest.fixture
async def admin() -> AsyncIterator[tuple[Telemetry, httpx.AsyncClient]]:
    telemetry, client = await _serve()
    async with client:
        yield telemetry, client
    await telemetry.admin.stop()
    telemetry.shutdown_sync()


async def test_a_fault_is_set_listed_removed_and_cleared(
    admin: tuple[Telemetry, httpx.AsyncClient],
) -> None:
    telemetry, client = admin

    created = await client.post("/admin/faults", json=FAULT)
    other = await client.post("/admin/faults", json={**FAULT, "target": "*"})
    listed = await client.get("/admin/faults")
    removed = await client.delete(f"/admin/faults/{created.json()['id']}")
    again = await client.delete(f"/admin/faults/{created.json()['id']}")
    cleared = await client.delete("/admin/faults")

    assert created.status_code == 201, created.text
    fault = created.json()
    assert set(fault) == {
        "id", "target", "error_ratio", "latency_ms", "ttl_seconds", "expires_at", "actor", "set_at"
    }  # fmt: skip
    assert {key: fault[key] for key in FAULT} == FAULT
    assert other.status_code == 201
    assert [item["id"] for item in listed.json()["faults"]] == [fault["id"], other.json()["id"]]
    assert removed.status_code == 200
    assert removed.json()["id"] == fault["id"]
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    assert cleared.json() == {"cleared": 1}
    assert telemetry.faults.active() == []


BAD_FAULTS = [
    (b"{not json", "#"),
    (b"[1, 2]", "#"),
    (b"", "#"),
    ({**FAULT, "target": "GET users"}, "target"),
    ({**FAULT, "error_ratio": 1.5}, "error_ratio"),
    ({**FAULT, "error_ratio": "0.5"}, "error_ratio"),
    ({**FAULT, "latency_ms": -1}, "latency_ms"),
    ({**FAULT, "latency_ms": 1.5}, "latency_ms"),
    ({**FAULT, "ttl_seconds": 0}, "ttl_seconds"),
    ({**FAULT, "ttl_seconds": 901}, "ttl_seconds"),
    ({key: value for key, value in FAULT.items() if key != "ttl_seconds"}, "ttl_seconds"),
    ({**FAULT, "colour": "red"}, "colour"),
    ({**FAULT, "actor": "a\nb"}, "actor"),
]


@pytest.mark.parametrize(("body", "field"), BAD_FAULTS)
async def test_a_bad_fault_is_a_400_naming_the_field_and_sets_nothing(
    admin: tuple[Telemetry, httpx.AsyncClient], body: Any, field: str
) -> None:
    telemetry, client = admin
    content = body if isinstance(body, bytes) else None
    json_body = None if isinstance(body, bytes) else body

    response = await client.post("/admin/faults", content=content, json=json_body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["pointer"] == ("#" if field == "#" else f"#/{field}")
    assert problem["detail"].startswith("body" if field == "#" else field)
    assert telemetry.faults.active() == []


async def test_an_oversized_body_is_a_400_before_it_is_read(
    admin: tuple[Telemetry, httpx.AsyncClient],
) -> None:
    telemetry, client = admin
    padded = {**FAULT, "actor": "x" * (MAX_BODY_BYTES + 10)}

    response = await client.post("/admin/faults", json=padded)

    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]
    assert telemetry.faults.active() == []


async def test_the_log_level_is_read_and_changed(
    admin: tuple[Telemetry, httpx.AsyncClient],
) -> None:
    _, client = admin
    logging.getLogger().setLevel(logging.INFO)

    changed = await client.put("/admin/log-level", json={"level": "debug", "actor": "t"})
    read = await client.get("/admin/log-level")

    assert changed.json() == {"level": "DEBUG", "previous": "INFO"}
    assert read.json() == {"level": "DEBUG"}
    assert logging.getLogger("observability.asgi").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize("body", [{"level": "LOUD"}, {"level": 10}, {}, {"level": "INFO", "x": 1}])
async def test_a_bad_log_level_is_refused_and_the_old_one_kept(
    admin: tuple[Telemetry, httpx.AsyncClient], body: dict[str, Any]
) -> None:
    _, client = admin
    logging.getLogger().setLevel(logging.WARNING)

    response = await client.put("/admin/log-level", json=body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] in {"#/level", "#/x"}
    assert logging.getLogger().level == logging.WARNING


async def test_the_sampling_ratio_is_read_changed_and_bounded(
    admin: tuple[Telemetry, httpx.AsyncClient],
) -> None:
    telemetry, client = admin
    tracer = telemetry.tracer("test")

    before = await client.get("/admin/sampling")
    changed = await client.put("/admin/sampling", json={"ratio": 0})
    refused = await client.put("/admin/sampling", json={"ratio": 1.5})

    assert before.json() == {
        "sampler": "parentbased_traceidratio",
        "ratio": 1.0,
        "adjustable": True,
    }
    assert changed.json()["previous"] == 1.0
    assert changed.json()["ratio"] == 0.0
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["pointer"] == "#/ratio"
    assert telemetry.runtime.sampling["ratio"] == 0.0
    assert not tracer.start_span("root").is_recording()


async def test_sampling_is_409_when_the_sampler_takes_no_ratio() -> None:
    telemetry, client = await _serve(traces_sampler="always_on")
    async with client:
        response = await client.put("/admin/sampling", json={"ratio": 0.5})
    await telemetry.admin.stop()

    assert response.status_code == 409
    assert response.json()["type"].endswith("sampling-not-adjustable")


async def test_faults_are_refused_in_production_unless_enabled() -> None:
    production = {"environment": "production", "admin_token": TOKEN}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for settings, expected in [({}, 403), ({"faults_enabled": True}, 201)]:
        telemetry, client = await _serve(**production, **settings)
        async with client:
            response = await client.post("/admin/faults", json=FAULT, headers=auth)
        await telemetry.admin.stop()
        assert response.status_code == expected, response.text
        if expected == 403:
            assert response.json()["type"].endswith("fault-injection-disabled")
            assert "OBS_FAULTS_ENABLED=true" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/admin/faults"), ("DELETE", "/admin/faults"), ("PUT", "/admin/log-level"),
     ("PUT", "/admin/sampling"), ("GET", "/admin/faults")],
)  # fmt: skip
async def test_with_a_token_every_admin_route_asks_for_it(method: str, path: str) -> None:
    telemetry, client = await _serve(admin_token=TOKEN)
    async with client:
        refused = await client.request(method, path, json=FAULT)
        wrong = await client.request(
            method, path, json=FAULT, headers={"Authorization": "Bearer x"}
        )
    await telemetry.admin.stop()

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert telemetry.faults.active() == []


async def _respond_to(telemetry: Telemetry, request: bytes, peer: str) -> Any:
    reader = asyncio.StreamReader()
    head, _, body = request.partition(b"\r\n\r\n")
    reader.feed_data(body)
    reader.feed_eof()
    return await telemetry.admin._respond(_parse_head(head + b"\r\n\r\n"), reader, peer)


async def test_without_a_token_changes_from_a_remote_peer_are_403_and_reads_are_served() -> None:
    telemetry, _ = isolated_telemetry()
    body = b'{"level": "DEBUG"}'
    change = b"PUT /admin/log-level HTTP/1.1\r\nContent-Length: 18\r\n\r\n" + body
    read = b"GET /admin/log-level HTTP/1.1\r\n\r\n"
    level = logging.getLogger().level

    remote = await _respond_to(telemetry, change, "203.0.113.9")
    remote_read = await _respond_to(telemetry, read, "203.0.113.9")
    local = await _respond_to(telemetry, change, "::1")

    assert remote.status == 403
    assert remote.content_type == "application/problem+json"
    assert b"loopback" in remote.body
    assert remote_read.status == 200
    assert local.status == 200
    assert logging.getLogger().level == logging.DEBUG != level


async def test_an_unknown_admin_path_and_method_are_problems(
    admin: tuple[Telemetry, httpx.AsyncClient],
) -> None:
    _, client = admin
    missing = await client.get("/admin/nothing")
    wrong_method = await client.patch("/admin/faults", json={})

    assert missing.status_code == 404
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "DELETE, GET, POST"
