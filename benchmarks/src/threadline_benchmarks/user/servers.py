"""The user benchmark's processes: the service (as configured, and with its near cache off)
and the bare app, on free ports; the seeded accounts they serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from argon2 import PasswordHasher

from threadline_benchmarks.harness.processes import free_port

__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "Servers", "metric", "seed_users", "start_servers"]

ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "benchmark admin passphrase"


async def seed_users(database_url: str, count: int) -> list[str]:
    """Rows written directly (one shared hash): hashing 40k passwords would take minutes."""
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    now = datetime.now(UTC)
    shared_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("unused")
    ids = [uuid.uuid4() for _ in range(count)]
    try:
        await connection.copy_records_to_table(
            "users",
            columns=[
                "id",
                "email",
                "full_name",
                "role",
                "is_active",
                "password_hash",
                "created_at",
                "updated_at",
            ],
            records=[
                (
                    user_id,
                    f"seed{index}@example.com",
                    "Seeded User",
                    "user",
                    True,
                    shared_hash,
                    now,
                    now,
                )
                for index, user_id in enumerate(ids)
            ],
        )
    finally:
        await connection.close()
    return [str(user_id) for user_id in ids]


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited during start-up:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(f"server not ready after 60 s:\n{log.read_text()[-3000:]}")


def metric(admin_url: str, name: str, **labels: str) -> float:
    for line in httpx.get(f"{admin_url}/metrics").text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@dataclass
class Servers:
    base: str
    admin: str
    redis_only: str
    bare: str
    auth: dict[str, str]
    hot_id: str


def _spawn(
    argv: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)


def _start_service(
    env: dict[str, str], workdir: Path, name: str, processes: list[subprocess.Popen[bytes]]
) -> tuple[str, str]:
    """`user-service serve` on free ports: (base URL, admin URL)."""
    port, admin_port = free_port(), free_port()
    env = {**env, "USER_PORT": str(port), "USER_ADMIN_PORT": str(admin_port)}
    log = workdir / f"{name}.log"
    service = _spawn(
        [sys.executable, "-m", "user_service.cli", "serve"], env=env, cwd=workdir, log=log
    )
    processes.append(service)
    admin = f"http://127.0.0.1:{admin_port}"
    _wait_ready(f"{admin}/readyz", service, log)
    return f"http://127.0.0.1:{port}", admin


def start_servers(
    database_url: str,
    redis_url: str,
    hot_id: str,
    workdir: Path,
    processes: list[subprocess.Popen[bytes]],
) -> Servers:
    """Start the service (as configured, and with its near cache off) and the bare app,
    recording them in `processes` as soon as they run."""
    env = {
        **os.environ,
        "USER_HOST": "127.0.0.1",
        "USER_ADMIN_HOST": "127.0.0.1",
        "USER_DATABASE_URL": database_url,
        "USER_REDIS_URL": redis_url,
        # One key directory: a token from either process is good at both.
        "USER_SIGNING_KEYS_DIR": str(workdir / "keys"),
        "USER_TOKEN_RATE_LIMIT_PER_EMAIL": "10000000",
        "USER_TOKEN_RATE_LIMIT_PER_CLIENT": "10000000",
        "USER_LOG_LEVEL": "WARNING",
        # Spans are made and sampled as in production (ratio 0.1); with no collector running
        # they are not exported.
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    base, admin = _start_service(env, workdir, "user", processes)
    redis_only, _ = _start_service(
        {**env, "USER_CACHE_NEAR_ENABLED": "false"}, workdir, "user-redis-only", processes
    )
    token = httpx.post(
        f"{base}/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = httpx.get(f"{base}/v1/users/{hot_id}", headers=auth).text
    assert httpx.get(f"{redis_only}/v1/users/{hot_id}", headers=auth).text == body
    bare_port = free_port()
    bare_log = workdir / "bare.log"
    uvicorn = [
        sys.executable,
        "-m",
        "uvicorn",
        "threadline_benchmarks.user.bare_app:app",
        "--host",
        "127.0.0.1",
    ]
    options = [
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    bare = _spawn(
        [*uvicorn, "--port", str(bare_port), *options],
        env={**env, "BENCH_BODY": body},
        cwd=workdir,
        log=bare_log,
    )
    processes.append(bare)
    bare_url = f"http://127.0.0.1:{bare_port}/bare/users/{hot_id}"
    _wait_ready(bare_url, bare, bare_log)
    assert httpx.get(bare_url).text == body, "the bare route must answer the same JSON"
    return Servers(
        base=base, admin=admin, redis_only=redis_only, bare=bare_url, auth=auth, hot_id=hot_id
    )
