"""Benchmark of the user service: GET by id (near-cache hit, Redis hit, cache miss) and the token
endpoint, against a bare FastAPI route returning the same JSON from memory, in the same run.

    make bench-user
    uv run --all-packages python services/user/benchmarks/bench_user.py --seconds 10

One uvicorn worker per server, loopback only, load from `wrk` (one thread); the bare route and
the two hits take turns, so neighbours' load falls on all three. The service runs twice: as
configured (near cache on) and with the near cache off, so a Redis hit is measured as such.
PostgreSQL and Redis are the native stack's (started when absent); the benchmark uses its own
database and Redis database and drops them afterwards. Results are printed and written to
docs/benchmarks/user.md and docs/benchmarks/user.json. Goal: a cache hit keeps at least half the
bare route's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import redis
import uvloop
from argon2 import PasswordHasher

# Sibling modules: this directory is sys.path[0] when the script runs.
from breakdown import breakdown  # type: ignore[import-not-found]
from pydantic import SecretStr
from report import write_report  # type: ignore[import-not-found]
from wrk import Result, headers_lua, in_turns, run_wrk  # type: ignore[import-not-found]

from threadline_native.net import free_port
from threadline_native.stack import ensure_up, load_context, select
from user_service.adapters.migrations import upgrade_to_head
from user_service.admin import create_admin
from user_service.settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BENCH_DATABASE = "users_bench"
BENCH_REDIS_DB = 15
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "benchmark admin passphrase"
SEEDED_USERS = 40_000
# The bare route and the two hits take turns (wrk.in_turns): their ratio is the goal.
TURNS = 5


async def _fresh_database(server_url: str) -> str:
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"


async def _drop_database(server_url: str) -> None:
    connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


async def _seed_users(database_url: str, count: int) -> list[str]:
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


def _metric(admin_url: str, name: str, **labels: str) -> float:
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


def _start_servers(
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
    uvicorn = [sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1"]
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
        cwd=HERE,
        log=bare_log,
    )
    processes.append(bare)
    bare_url = f"http://127.0.0.1:{bare_port}/bare/users/{hot_id}"
    _wait_ready(bare_url, bare, bare_log)
    assert httpx.get(bare_url).text == body, "the bare route must answer the same JSON"
    return Servers(
        base=base, admin=admin, redis_only=redis_only, bare=bare_url, auth=auth, hot_id=hot_id
    )


def _measure(
    servers: Servers,
    seeded: list[str],
    *,
    redis_url: str,
    seconds: int,
    connections: int,
    settings: Settings,
    workdir: Path,
) -> list[Result]:
    auth_lua = headers_lua(servers.auth)
    hot_path = f"/v1/users/{servers.hot_id}"
    hot_url, redis_hot_url = f"{servers.base}{hot_path}", f"{servers.redis_only}{hot_path}"
    # Warm-up: every server, so none pays first-request costs inside the measurement.
    run_wrk("warm-up", servers.bare, seconds=2, connections=connections, lua="")
    run_wrk("warm-up", hot_url, seconds=2, connections=connections, lua=auth_lua)
    run_wrk("warm-up", redis_hot_url, seconds=2, connections=connections, lua=auth_lua)

    def lookups(result: str, cache: str = "users") -> float:
        return _metric(servers.admin, "cache_requests_total", cache=cache, result=result)

    near_hits_before = lookups("hit", cache="users_near")
    redis_lookups_before = lookups("hit") + lookups("miss")
    results: list[Result] = in_turns(
        [
            ("bare route (same JSON from memory)", servers.bare, "", ""),
            ("GET /v1/users/{id}, near-cache hit (as configured)", hot_url, auth_lua, ""),
            (
                "GET /v1/users/{id}, Redis hit (near cache off)",
                redis_hot_url,
                auth_lua,
                "a second service process, USER_CACHE_NEAR_ENABLED=false",
            ),
        ],
        seconds=seconds,
        connections=connections,
        turns=TURNS,
    )
    near_hits = lookups("hit", cache="users_near") - near_hits_before
    redis_lookups = lookups("hit") + lookups("miss") - redis_lookups_before
    results[1].note = (
        f"{near_hits / max(near_hits + redis_lookups, 1):.2%} of reads answered in process; "
        f"the rest from Redis (entries live {settings.cache_near_ttl_seconds:g} s)"
    )

    redis.Redis.from_url(redis_url).flushdb()
    misses_before, hits_before = lookups("miss"), lookups("hit")
    ids_file = workdir / "ids.txt"
    ids_file.write_text("\n".join(seeded[1:]) + "\n")
    miss_lua = (
        auth_lua
        + f'ids = {{}}\nfor line in io.lines("{ids_file}") do ids[#ids + 1] = line end\n'
        + "i = 0\nrequest = function()\n  i = i % #ids + 1\n"
        + '  return wrk.format("GET", "/v1/users/" .. ids[i])\nend\n'
    )
    miss = run_wrk(
        "GET /v1/users/{id}, cache miss (as configured)",
        f"{servers.base}/v1/users/x",
        seconds=seconds,
        connections=connections,
        lua=miss_lua,
    )
    misses, hits = lookups("miss") - misses_before, lookups("hit") - hits_before
    miss.note = f"{misses / max(misses + hits, 1):.1%} of reads missed Redis (and the near cache)"
    results.append(miss)
    login = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    token_lua = (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        + f"wrk.body = '{login}'\n"
    )
    results.append(
        run_wrk(
            "POST /v1/auth/token (argon2id verify)",
            f"{servers.base}/v1/auth/token",
            seconds=seconds,
            connections=4,
            lua=token_lua,
            note=f"argon2id m={settings.argon2_memory_kib} KiB, t={settings.argon2_time_cost}, "
            f"p={settings.argon2_parallelism}; {settings.password_hashing_concurrency} at a time",
        )
    )
    return results


def run(seconds: int, connections: int, output: Path) -> list[Result]:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    # PostgreSQL and Redis stay up afterwards, as after `make up`.
    ensure_up(select(load_context(), ["postgres", "redis"]), progress=False)
    postgres_server = "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/postgres"
    redis_url = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    database_url = asyncio.run(_fresh_database(postgres_server))
    workdir = Path(tempfile.mkdtemp(prefix="bench-user-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade_to_head(database_url)
        settings = Settings(database_url=SecretStr(database_url), redis_url=SecretStr(redis_url))
        asyncio.run(
            create_admin(settings, email=ADMIN_EMAIL, full_name="Bench", password=ADMIN_PASSWORD)
        )
        seeded = asyncio.run(_seed_users(database_url, SEEDED_USERS))
        servers = _start_servers(database_url, redis_url, seeded[0], workdir, processes)
        body = httpx.get(f"{servers.base}/v1/users/{servers.hot_id}", headers=servers.auth).json()
        # On uvloop, as the service runs: the event loop's cost per awaited I/O is part of it.
        layers = uvloop.run(
            breakdown(
                settings.model_copy(update={"signing_keys_dir": workdir / "keys"}),
                token=servers.auth["Authorization"].removeprefix("Bearer "),
                user_id=servers.hot_id,
                body=body,
            )
        )
        results = _measure(
            servers,
            seeded,
            redis_url=redis_url,
            seconds=seconds,
            connections=connections,
            settings=settings,
            workdir=workdir,
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        asyncio.run(_drop_database(postgres_server))
        redis.Redis.from_url(redis_url).flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
    write_report(results, layers, settings, output)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks")
    args = parser.parse_args()
    run(args.seconds, args.connections, args.output)


if __name__ == "__main__":
    main()
