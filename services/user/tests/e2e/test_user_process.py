"""The service as a real process over HTTP: start-up, observability, Redis outage, SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from typing import Any

import httpx
import pytest

from threadline_testing.known_secrets import register_secret

pytestmark = pytest.mark.e2e

PASSWORD = register_secret("correct horse battery staple", "password")


def register_and_log_in(base_url: str, email: str) -> tuple[str, str]:
    created = httpx.post(
        f"{base_url}/v1/users", json={"email": email, "full_name": "E2E", "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    token = httpx.post(f"{base_url}/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return created.json()["id"], register_secret(token.json()["access_token"], "access token")


def metric(admin_url: str, name: str, **labels: str) -> float:
    """One sample from the admin port's exposition (0 when absent)."""
    text = httpx.get(f"{admin_url}/metrics").text
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_service_serves_reports_ready_and_counts_what_happens(service_process: Any) -> None:
    base, admin = service_process.base_url, service_process.admin_url
    for probe in ("/healthz", "/readyz", "/startupz"):
        assert httpx.get(f"{admin}{probe}").status_code == 200
    ready = httpx.get(f"{admin}/readyz").json()
    assert ready["checks"]["postgres"]["state"] == "pass"
    assert ready["checks"]["redis"]["state"] == "pass"
    user_id, token = register_and_log_in(base, "ada@example.com")
    me = httpx.get(f"{base}/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == user_id
    assert metric(admin, "users_registered_total") == 1
    assert metric(admin, "user_logins_total", outcome="success") == 1
    assert (
        metric(
            admin, "http_server_request_duration_seconds_count", route="/v1/users/me", method="GET"
        )
        == 1
    )
    # Start-up ended with one full collection before freezing the heap, and it was timed.
    assert metric(admin, "python_gc_pause_seconds_count", generation="2") >= 1
    # The public port does not serve metrics.
    assert httpx.get(f"{base}/metrics").status_code == 404


def test_logs_carry_user_ids_but_never_emails_passwords_or_tokens(service_process: Any) -> None:
    base = service_process.base_url
    user_id, token = register_and_log_in(base, "secret.person@example.com")
    httpx.post(
        f"{base}/v1/auth/token",
        json={
            "email": "secret.person@example.com",
            "password": register_secret("wrong wrong", "password"),
        },
    )
    httpx.patch(
        f"{base}/v1/users/{user_id}",
        headers={"Authorization": f"Bearer {token}"},
        json={"password": register_secret("another long passphrase", "password")},
    )
    time.sleep(0.2)
    log = service_process.log()
    records = service_process.log_records()
    assert any(record.get("user.id") == user_id for record in records)
    for secret in (
        "secret.person",
        PASSWORD,
        "another long passphrase",
        token,
        token.split(".")[2],
    ):
        assert secret not in log


def test_start_up_is_refused_until_the_database_is_migrated(
    database_url: str, redis_db_url: str, launch_service: Any
) -> None:
    service = launch_service(database_url=database_url, redis_url=redis_db_url)
    code = service.process.wait(timeout=30)
    assert code != 0
    assert "make migrate" in service.log()


def test_reads_fall_back_to_the_database_while_redis_is_down(
    migrated_database_url: str, private_redis: Any, launch_service: Any
) -> None:
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=private_redis.url,
        # Every read asks the Redis tier: its fallback is what is under test.
        env={"USER_CACHE_RETRY_AFTER_SECONDS": "0.2", "USER_CACHE_NEAR_ENABLED": "false"},
    )
    base, admin = service.base_url, service.admin_url
    user_id, token = register_and_log_in(base, "ada@example.com")
    auth = {"Authorization": f"Bearer {token}"}

    def read() -> None:
        response = httpx.get(f"{base}/v1/users/{user_id}", headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == user_id

    read()
    read()
    hits = metric(admin, "cache_requests_total", cache="users", result="hit")
    assert hits >= 1

    private_redis.stop()
    for _ in range(5):
        read()
        time.sleep(0.05)
    assert metric(admin, "cache_requests_total", cache="users", result="error") >= 5
    assert "cache unavailable; reads fall back to the database" in service.log()
    assert metric(admin, "cache_requests_total", cache="users", result="hit") == hits

    private_redis.start()
    time.sleep(0.3)  # past the retry pause
    read()
    read()
    assert metric(admin, "cache_requests_total", cache="users", result="hit") > hits
    assert "cache available again" in service.log()


def test_with_the_near_cache_reads_answer_through_a_redis_outage_and_say_so(
    migrated_database_url: str, private_redis: Any, launch_service: Any
) -> None:
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=private_redis.url,
        env={"USER_CACHE_RETRY_AFTER_SECONDS": "0.2", "USER_CACHE_NEAR_TTL_SECONDS": "0.5"},
    )
    base, admin = service.base_url, service.admin_url
    user_id, token = register_and_log_in(base, "ada@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert httpx.get(f"{base}/v1/users/{user_id}", headers=auth).status_code == 200
    assert metric(admin, "cache_requests_total", cache="users_near", result="hit") >= 1

    private_redis.stop()
    deadline = time.monotonic() + 3  # several near-cache TTLs: reads reach the database
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/v1/users/{user_id}", headers=auth)
        assert response.status_code == 200, response.text
        time.sleep(0.05)
    assert metric(admin, "cache_requests_total", cache="users", result="error") >= 2
    assert "near-cache entries now expire with their TTL alone" in service.log()
    invalidations = httpx.get(f"{admin}/readyz").json()["checks"]["cache invalidations"]
    assert invalidations["state"] == "fail"
    assert httpx.get(f"{admin}/readyz").status_code == 200  # not critical

    private_redis.start()
    deadline = time.monotonic() + 5
    while "cache invalidations received again" not in service.log():
        assert time.monotonic() < deadline, service.log()[-2000:]
        time.sleep(0.1)


def test_a_change_through_one_replica_is_read_through_another_long_before_the_near_ttl(
    migrated_database_url: str, redis_db_url: str, launch_service: Any
) -> None:
    # Only the published invalidation can explain seeing the change within seconds.
    env = {"USER_CACHE_NEAR_TTL_SECONDS": "300"}
    one, two = (
        launch_service(
            database_url=migrated_database_url, redis_url=redis_db_url, env=env, name=name
        )
        for name in ("one", "two")
    )
    user_id, token = register_and_log_in(one.base_url, "ada@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert httpx.get(f"{two.base_url}/v1/users/{user_id}", headers=auth).status_code == 200
    assert metric(two.admin_url, "cache_requests_total", cache="users_near", result="hit") >= 1

    changed = httpx.patch(
        f"{one.base_url}/v1/users/{user_id}", headers=auth, json={"full_name": "Ada L."}
    )
    assert changed.status_code == 200, changed.text
    started = time.monotonic()
    while (
        httpx.get(f"{two.base_url}/v1/users/{user_id}", headers=auth).json()["full_name"]
        != "Ada L."
    ):
        assert time.monotonic() - started < 5, "the change did not reach replica two"
        time.sleep(0.01)


def test_sigterm_during_a_burst_fails_none_of_the_requests_in_flight(
    migrated_database_url: str, redis_db_url: str, launch_service: Any
) -> None:
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={
            # Production hashing cost: 40 logins, two at a time, keep the server busy for
            # well over a second — far longer than the short drain delay below.
            "USER_ARGON2_TIME_COST": "2",
            "USER_ARGON2_MEMORY_KIB": str(19 * 1024),
            "USER_SHUTDOWN_DRAIN_DELAY_SECONDS": "0.2",
            "USER_TOKEN_RATE_LIMIT_PER_EMAIL": "1000",
            "USER_TOKEN_RATE_LIMIT_PER_CLIENT": "1000",
        },
    )
    base = service.base_url
    user_id, token = register_and_log_in(base, "ada@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    login = {"email": "ada@example.com", "password": PASSWORD}

    async def burst() -> tuple[list[int | str], float]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            calls = [client.post("/v1/auth/token", json=login) for _ in range(40)]
            calls += [client.get(f"/v1/users/{user_id}", headers=auth) for _ in range(40)]
            requests = [asyncio.ensure_future(call) for call in calls]
            await asyncio.sleep(0.3)
            service.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            responses = await asyncio.gather(*requests, return_exceptions=True)
            statuses = [
                response.status_code if isinstance(response, httpx.Response) else repr(response)
                for response in responses
            ]
            return statuses, time.monotonic() - signalled

    statuses, drained_for = asyncio.run(burst())
    assert statuses == [200] * 80
    # The burst really was in flight when the signal came: answers kept coming after it.
    assert drained_for > 0.3
    assert service.process.wait(timeout=30) == 0
    assert "drain step done" in service.log()
