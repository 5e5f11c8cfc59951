"""What `make bench-user` measures: GET by id (near-cache hit, Redis hit, cache miss) and the
token endpoint with wrk, against a bare FastAPI route returning the same JSON from memory, in
the same run, and where a cache hit's CPU goes (breakdown.py).

One uvicorn worker per server, loopback only, load from `wrk` (one thread); the bare route and
the two hits take turns, so neighbours' load falls on all three. The service runs twice: as
configured (near cache on) and with the near cache off, so a Redis hit is measured as such.
PostgreSQL and Redis are the native stack's (started when absent); the benchmark uses its own
database and Redis database and drops them afterwards. Goal: a cache hit keeps at least half
the bare route's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
import uvloop
from pydantic import SecretStr

from threadline_benchmarks.harness.data_stores import fresh_database_blocking
from threadline_benchmarks.harness.wrk import Result, headers_lua, in_turns, run_wrk
from threadline_benchmarks.user.breakdown import Layer, breakdown
from threadline_benchmarks.user.servers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Servers,
    metric,
    seed_users,
    start_servers,
)
from user_service.adapters.migrations import upgrade_to_head
from user_service.admin import create_admin
from user_service.settings import Settings

__all__ = ["Figures", "measure", "options"]

BENCH_DATABASE = "users_bench"
BENCH_REDIS_DB = 15
SEEDED_USERS = 40_000
# The bare route and the two hits take turns (wrk.in_turns): their ratio is the goal.
TURNS = 5


@dataclass(frozen=True)
class Figures:
    results: list[Result]
    layers: list[Layer]
    settings: Settings


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)


def _wrk_phases(
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
        return metric(servers.admin, "cache_requests_total", cache=cache, result=result)

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


def measure(args: argparse.Namespace) -> Figures:
    """Seed, start the servers, take the CPU breakdown, then the wrk phases; clean up after."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    redis_url = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="bench-user-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with fresh_database_blocking(BENCH_DATABASE) as database_url:
            try:
                return _measure(database_url, redis_url, workdir, processes, args)
            finally:
                for process in processes:
                    process.terminate()
                    process.wait(timeout=30)
    finally:
        redis.Redis.from_url(redis_url).flushdb()
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(
    database_url: str,
    redis_url: str,
    workdir: Path,
    processes: list[subprocess.Popen[bytes]],
    args: argparse.Namespace,
) -> Figures:
    upgrade_to_head(database_url)
    settings = Settings(database_url=SecretStr(database_url), redis_url=SecretStr(redis_url))
    asyncio.run(
        create_admin(settings, email=ADMIN_EMAIL, full_name="Bench", password=ADMIN_PASSWORD)
    )
    seeded = asyncio.run(seed_users(database_url, SEEDED_USERS))
    servers = start_servers(database_url, redis_url, seeded[0], workdir, processes)
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
    results = _wrk_phases(
        servers,
        seeded,
        redis_url=redis_url,
        seconds=args.seconds,
        connections=args.connections,
        settings=settings,
        workdir=workdir,
    )
    return Figures(results, layers, settings)
