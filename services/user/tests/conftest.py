"""Fixtures of the user service's tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr

from observability import Telemetry
from observability.testing import isolated_telemetry
from threadline_native.net import free_port, redis_ping
from threadline_testing.known_secrets import register_secret, register_signing_keys
from threadline_testing.telemetry_sink import TelemetrySink
from user_service.adapters.migrations import upgrade_to_head
from user_service.admin import create_admin
from user_service.main import create_app
from user_service.settings import Settings
from user_service.testing import World


@pytest.fixture
def world() -> World:
    """Every port of the use cases, faked."""
    return World()


# Integration: the app in-process over real PostgreSQL and Redis ---------------------------------


@pytest.fixture
def migrated_database_url(database_url: str) -> str:
    """A fresh database with the user service's migrations applied."""
    upgrade_to_head(database_url)
    return database_url


@pytest.fixture
def settings(migrated_database_url: str, redis_db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=SecretStr(migrated_database_url),
        redis_url=SecretStr(redis_db_url),
        signing_keys_dir=tmp_path / "keys",
        # Behaviour, not cost, is under test here.
        argon2_time_cost=1,
        argon2_memory_kib=8 * 1024,
        db_pool_size=2,
        # The orders.v1 consumer has its own tests; these apps leave the shared Kafka alone.
        orders_consumer_enabled=False,
    )


@pytest.fixture
def telemetry() -> Telemetry:
    telemetry, _ = isolated_telemetry()
    return telemetry


@pytest_asyncio.fixture
async def client(settings: Settings, telemetry: Telemetry) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, its lifespan run as a server would run it."""
    async with in_process_client(create_app(settings, telemetry)) as http:
        yield http


@asynccontextmanager
async def in_process_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app) as state:

        async def with_lifespan_state(scope: Any, receive: Any, send: Any) -> None:
            # What uvicorn does with the state a lifespan yields.
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_lifespan_state, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://user.test") as http:
            yield http


@dataclass
class Account:
    id: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


PASSWORD = register_secret("correct horse battery staple", "password")

SignUp = Callable[[str], Awaitable[Account]]


@pytest.fixture
def sign_up(client: httpx.AsyncClient) -> SignUp:
    """`await sign_up(email)`: register and log in over HTTP."""

    async def register_and_log_in(email: str) -> Account:
        created = await client.post(
            "/v1/users", json={"email": email, "full_name": "Test User", "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        return Account(created.json()["id"], email, PASSWORD, token.json()["access_token"])

    return register_and_log_in


@pytest_asyncio.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Account:
    """An admin made the documented way (`user-service create-admin`), logged in."""
    email = "root@example.com"
    await create_admin(settings, email=email, full_name="Root", password=PASSWORD)
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    me = await client.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    return Account(me.json()["id"], email, PASSWORD, token.json()["access_token"])


# E2E: the service as a real process ---------------------------------------------------------------


@dataclass
class ServiceProcess:
    """`user-service serve` running on ephemeral loopback ports, logging to a file."""

    process: subprocess.Popen[bytes]
    base_url: str
    admin_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines (uvicorn may print a plain line before logging is set up)."""
        records = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        return records

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start_service(
    *,
    database_url: str,
    redis_url: str,
    workdir: Path,
    telemetry: Mapping[str, str],
    env: dict[str, str] | None = None,
) -> ServiceProcess:
    """Start the service; ``telemetry`` is where it exports (`telemetry_sink.environment()`)."""
    port, admin_port = free_port(), free_port()
    log_path = workdir / "user-service.log"
    environment = {
        **os.environ,
        "USER_HOST": "127.0.0.1",
        "USER_PORT": str(port),
        "USER_ADMIN_HOST": "127.0.0.1",
        "USER_ADMIN_PORT": str(admin_port),
        "USER_DATABASE_URL": database_url,
        "USER_REDIS_URL": redis_url,
        "USER_SIGNING_KEYS_DIR": str(workdir / "keys"),
        **telemetry,
        "USER_ARGON2_TIME_COST": "1",
        "USER_ARGON2_MEMORY_KIB": str(8 * 1024),
        "USER_ORDERS_CONSUMER_ENABLED": "false",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "user_service.cli", "serve"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    service = ServiceProcess(
        process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}", log_path
    )
    # Generous: on a busy 2-core machine the imports alone can take 15 s.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return service  # exited during start-up; the caller looks at why
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{service.admin_url}/readyz", timeout=1).status_code == 200:
                register_signing_keys(Path(environment["USER_SIGNING_KEYS_DIR"]))
                return service
        time.sleep(0.1)
    service.stop()
    raise AssertionError(f"the user service did not become ready:\n{service.log()[-3000:]}")


Launcher = Callable[..., ServiceProcess]


@pytest.fixture(scope="session")
def service_starter() -> Callable[..., ServiceProcess]:
    """`start_service` itself, for fixtures of a wider scope than `launch_service` (which stop
    what they start themselves)."""
    return start_service


@pytest.fixture
def launch_service(tmp_path: Path, telemetry_sink: TelemetrySink) -> Iterator[Launcher]:
    """`launch_service(database_url=..., redis_url=..., env=..., name=...)`; stopped afterwards.

    Processes launched under different names (replicas) have their own working directory and
    log, and share one signing-key directory, as replicas share their keys.
    """
    started: list[ServiceProcess] = []

    def launch(
        *,
        database_url: str,
        redis_url: str,
        env: dict[str, str] | None = None,
        name: str | None = None,
    ) -> ServiceProcess:
        workdir = tmp_path
        if name is not None:
            workdir = tmp_path / name
            workdir.mkdir()
            env = {"USER_SIGNING_KEYS_DIR": str(tmp_path / "keys"), **(env or {})}
        service = start_service(
            database_url=database_url,
            redis_url=redis_url,
            workdir=workdir,
            telemetry=telemetry_sink.environment(),
            env=env,
        )
        started.append(service)
        return service

    yield launch
    for service in started:
        service.stop()


@pytest.fixture
def service_process(
    migrated_database_url: str, redis_db_url: str, tmp_path: Path, telemetry_sink: TelemetrySink
) -> Iterator[ServiceProcess]:
    """The service as a process over a migrated database; stopped (SIGTERM) afterwards."""
    service = start_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        workdir=tmp_path,
        telemetry=telemetry_sink.environment(),
        env={
            "USER_TOKEN_RATE_LIMIT_PER_CLIENT": "100000",
            "USER_TOKEN_RATE_LIMIT_PER_EMAIL": "100000",
        },
    )
    assert service.process.poll() is None, service.log()
    yield service
    service.stop()


@pytest.fixture
def admin_token(service_process: ServiceProcess, migrated_database_url: str) -> str:
    """An access token of an admin of the running service, made the documented way."""
    settings = Settings(database_url=SecretStr(migrated_database_url))
    asyncio.run(
        create_admin(settings, email="root@example.com", full_name="Root", password=PASSWORD)
    )
    response = httpx.post(
        f"{service_process.base_url}/v1/auth/token",
        json={"email": "root@example.com", "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    token: str = register_secret(response.json()["access_token"], "access token")
    return token


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, so stopping it disturbs no other test."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is not installed; run `make setup`")
        self.process = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not redis_ping(self.port):
            if time.monotonic() > deadline:
                pytest.fail("the private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(port=free_port(), directory=tmp_path)
    redis.start()
    yield redis
    redis.stop()
