"""Fault flags and runtime controls on a real user-service process, over its admin port.

A flag on a route fails or slows real requests and nothing else, expires by its TTL with no
request to notice, and is cleared at once; the log level and the sampling ratio change without
a restart, by PUT and by SIGHUP over the env file; changes from elsewhere than loopback, or
without the token when one is set, are refused.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from threadline_testing.telemetry_sink import TelemetrySink

# The conftest's ServiceProcess and launcher, as every e2e module here takes them: untyped.
ServiceProcess = Any
Launcher = Any

USER_ROUTE = "GET /v1/users/{user_id}"
ADMIN_TOKEN = "e2e-admin-token-for-runtime-controls"


def _fault(service: ServiceProcess, **fields: Any) -> dict[str, Any]:
    body = {"target": USER_ROUTE, "error_ratio": 1.0, "latency_ms": 0, "ttl_seconds": 60}
    response = httpx.post(
        f"{service.admin_url}/admin/faults", json={**body, **fields, "actor": "e2e"}, timeout=5
    )
    assert response.status_code == 201, response.text
    fault: dict[str, Any] = response.json()
    return fault


def _get_user(service: ServiceProcess) -> httpx.Response:
    # No token: 401 from the real route (its dependency ran), 503 when the flag fails it.
    return httpx.get(f"{service.base_url}/v1/users/{uuid.uuid4()}", timeout=10)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _changes(service: ServiceProcess) -> list[dict[str, Any]]:
    return [r for r in service.log_records() if r.get("logger") == "observability.changes"]


def test_a_fault_fails_its_route_only_then_expires_by_itself(
    service_process: ServiceProcess,
) -> None:
    fault = _fault(service_process, ttl_seconds=2)

    faulted = _get_user(service_process)
    other = httpx.get(f"{service_process.base_url}/v1/users", timeout=10)  # another route: 401

    assert faulted.status_code == 503
    assert faulted.headers["content-type"] == "application/problem+json"
    assert faulted.json()["type"].endswith("injected-fault")
    assert faulted.json()["fault_id"] == fault["id"]
    assert other.status_code == 401
    # The timer removes it with no request arriving: its audit line appears on its own.
    _wait_for(
        lambda: any(c["message"] == "fault flag expired" for c in _changes(service_process)),
        5,
        "the flag never expired",
    )
    assert _get_user(service_process).status_code == 401
    listed = httpx.get(f"{service_process.admin_url}/admin/faults", timeout=5).json()
    assert listed["faults"] == []
    set_line = next(c for c in _changes(service_process) if c["message"] == "fault flag set")
    assert (set_line["change.actor"], set_line["change.peer"]) == ("e2e", "127.0.0.1")
    assert set_line["change.old"] == "off"


def test_the_error_ratio_and_latency_hold_on_real_requests(
    service_process: ServiceProcess,
) -> None:
    _fault(service_process, error_ratio=0.5)
    statuses = [_get_user(service_process).status_code for _ in range(200)]
    failed = statuses.count(503)
    # Binomial(200, 0.5): 60..140 is more than 5 standard deviations either side.
    assert 60 <= failed <= 140, failed
    assert set(statuses) == {401, 503}

    _fault(service_process, error_ratio=0.0, latency_ms=300)  # replaces the flag
    started = time.perf_counter()
    slowed = [_get_user(service_process).status_code for _ in range(3)]
    assert time.perf_counter() - started >= 0.9
    assert slowed == [401, 401, 401]

    cleared = httpx.delete(f"{service_process.admin_url}/admin/faults", timeout=5)
    assert cleared.json() == {"cleared": 1}
    started = time.perf_counter()
    assert _get_user(service_process).status_code == 401
    assert time.perf_counter() - started < 0.3
    metrics = httpx.get(f"{service_process.admin_url}/metrics", timeout=5).text
    assert f'fault_injections_total{{kind="error",target="{USER_ROUTE}"}}' in metrics
    assert "fault_flags_active 0.0" in metrics


def test_the_log_level_changes_without_a_restart(service_process: ServiceProcess) -> None:
    def access_lines() -> int:
        return sum(r.get("message") == "request handled" for r in service_process.log_records())

    _get_user(service_process)
    _wait_for(lambda: access_lines() >= 1, 5, "no access line at INFO")
    changed = httpx.put(
        f"{service_process.admin_url}/admin/log-level",
        json={"level": "WARNING", "actor": "e2e"},
        timeout=5,
    )
    before = access_lines()
    for _ in range(5):
        _get_user(service_process)
    time.sleep(0.3)
    refused = httpx.put(
        f"{service_process.admin_url}/admin/log-level", json={"level": "LOUD"}, timeout=5
    )

    assert changed.json() == {"level": "WARNING", "previous": "INFO"}
    assert access_lines() == before
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["pointer"] == "#/level"
    level = httpx.get(f"{service_process.admin_url}/admin/log-level", timeout=5)
    assert level.json() == {"level": "WARNING"}


def test_sampling_zero_exports_no_spans_and_one_exports_again(
    launch_service: Launcher,
    migrated_database_url: str,
    redis_db_url: str,
    telemetry_sink: TelemetrySink,
) -> None:
    telemetry = telemetry_sink.environment(keep_spans=True)
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={
            **telemetry,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "1.0",
        },
    )

    def user_spans() -> int:
        return sum(
            s.name == "GET /v1/users/{user_id:uuid}" and s.service == "user"
            for s in telemetry_sink.kept_spans(telemetry)
        )

    _get_user(service)
    _wait_for(lambda: user_spans() == 1, 10, "the sampled request's span never arrived")
    off = httpx.put(f"{service.admin_url}/admin/sampling", json={"ratio": 0.0}, timeout=5)
    for _ in range(20):
        _get_user(service)
    on = httpx.put(f"{service.admin_url}/admin/sampling", json={"ratio": 1.0}, timeout=5)
    _get_user(service)
    # The last request's span arriving shows the export ran; the 20 before it made none.
    _wait_for(lambda: user_spans() >= 2, 10, "the span after sampling 1.0 never arrived")
    time.sleep(0.5)

    assert off.json()["previous"] == 1.0
    assert on.json()["ratio"] == 1.0
    assert user_spans() == 2


def test_sighup_rereads_the_env_file_and_keeps_old_values_on_a_bad_one(
    launch_service: Launcher, migrated_database_url: str, redis_db_url: str, tmp_path: Path
) -> None:
    env_file = tmp_path / "user.env"
    env_file.write_text("USER_LOG_LEVEL=INFO\nOTEL_TRACES_SAMPLER_ARG=0.5\n")
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={"USER_ENV_FILE": str(env_file), "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"},
    )

    def controls() -> tuple[str, float]:
        level = httpx.get(f"{service.admin_url}/admin/log-level", timeout=5).json()["level"]
        ratio = httpx.get(f"{service.admin_url}/admin/sampling", timeout=5).json()["ratio"]
        return level, ratio

    assert controls() == ("INFO", 0.5)
    env_file.write_text("USER_LOG_LEVEL=WARNING\nOTEL_TRACES_SAMPLER_ARG=0.25\n")
    service.process.send_signal(signal.SIGHUP)
    _wait_for(lambda: controls() == ("WARNING", 0.25), 5, "SIGHUP did not apply the file")

    env_file.write_text("USER_LOG_LEVEL=LOUD\nOTEL_TRACES_SAMPLER_ARG=0.75\n")
    service.process.send_signal(signal.SIGHUP)
    _wait_for(
        lambda: any("settings not reloaded" in r.get("message", "") for r in service.log_records()),
        5,
        "no ERROR line for the invalid file",
    )

    assert controls() == ("WARNING", 0.25)
    assert service.process.poll() is None
    error = next(r for r in service.log_records() if "settings not reloaded" in r["message"])
    assert error["level"] == "ERROR"
    assert any("USER_LOG_LEVEL" in line for line in error["reload.errors"])
    by_what = {c["change.what"]: c for c in _changes(service)}
    assert (by_what["log_level"]["change.old"], by_what["log_level"]["change.new"]) == (
        "INFO",
        "WARNING",
    )
    assert by_what["traces_sampler_ratio"]["change.actor"] == "SIGHUP"


def _non_loopback_address() -> str:
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.254", 9))  # no packet is sent: this only picks the route
        address: str = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address beyond loopback")
    return address


def test_changes_need_loopback_without_a_token_and_the_token_with_one(
    launch_service: Launcher, migrated_database_url: str, redis_db_url: str
) -> None:
    address = _non_loopback_address()
    open_port = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={"USER_ADMIN_HOST": "0.0.0.0"},
        name="no-token",
    )
    guarded = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={"USER_ADMIN_TOKEN": ADMIN_TOKEN},
        name="token",
    )
    remote = open_port.admin_url.replace("127.0.0.1", address)
    body = {"target": "*", "error_ratio": 1.0, "ttl_seconds": 5, "actor": "e2e"}

    with httpx.Client(trust_env=False, timeout=5) as client:  # no proxy between us and it
        from_afar = client.post(f"{remote}/admin/faults", json=body)
        read_from_afar = client.get(f"{remote}/admin/faults")
        no_token = client.post(f"{guarded.admin_url}/admin/faults", json=body)
        with_token = client.put(
            f"{guarded.admin_url}/admin/log-level",
            json={"level": "DEBUG"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )

    assert from_afar.status_code == 403
    assert from_afar.headers["content-type"] == "application/problem+json"
    assert "loopback" in from_afar.json()["detail"]
    assert read_from_afar.json()["faults"] == []
    assert no_token.status_code == 401
    assert with_token.status_code == 200
    assert ADMIN_TOKEN not in guarded.log()
