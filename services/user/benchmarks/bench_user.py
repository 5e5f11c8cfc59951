"""Benchmark of the user service: GET by id (cache hit, cache miss) and the token endpoint,
against a bare FastAPI route returning the same JSON from memory, in the same run.

    make bench-user
    uv run --all-packages python services/user/benchmarks/bench_user.py --seconds 10

One uvicorn worker per server, loopback only, load from `wrk` (one thread). PostgreSQL and Redis
are the native stack's (started when absent); the benchmark uses its own database and Redis
database and drops them afterwards. Results are printed and written to docs/benchmarks/user.md
and docs/benchmarks/user.json. Goal: a cache hit keeps at least half the bare route's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import redis
from argon2 import PasswordHasher

# A sibling module: this directory is sys.path[0] when the script runs.
from breakdown import breakdown  # type: ignore[import-not-found]
from pydantic import SecretStr

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

# wrk's Lua: one JSON line with the figures, read back by `_wrk`.
_REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass
class Result:
    scenario: str
    connections: int
    requests: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    note: str = ""


def _wrk(
    name: str, url: str, *, seconds: int, connections: int, lua: str, note: str = ""
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua + _REPORT_LUA)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    figures = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    elapsed = figures["duration_us"] / 1e6
    return Result(
        scenario=name,
        connections=connections,
        requests=figures["requests"],
        seconds=round(elapsed, 2),
        throughput_rps=round(figures["requests"] / elapsed, 1),
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
        non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"],
        note=note,
    )


def _headers_lua(headers: dict[str, str]) -> str:
    return "".join(f'wrk.headers["{key}"] = "{value}"\n' for key, value in headers.items())


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


def _hash_time_ms(settings: Settings, rounds: int = 15) -> float:
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.hash("correct horse battery staple")
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def _metric(admin_url: str, name: str, **labels: str) -> float:
    for line in httpx.get(f"{admin_url}/metrics").text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@dataclass
class Servers:
    base: str
    admin: str
    bare: str
    auth: dict[str, str]
    hot_id: str


def _spawn(
    argv: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)


def _start_servers(
    database_url: str,
    redis_url: str,
    hot_id: str,
    workdir: Path,
    processes: list[subprocess.Popen[bytes]],
) -> Servers:
    """Start the service and the bare app, recording them in `processes` as soon as they run."""
    port, admin_port, bare_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "USER_HOST": "127.0.0.1",
        "USER_PORT": str(port),
        "USER_ADMIN_HOST": "127.0.0.1",
        "USER_ADMIN_PORT": str(admin_port),
        "USER_DATABASE_URL": database_url,
        "USER_REDIS_URL": redis_url,
        "USER_SIGNING_KEYS_DIR": str(workdir / "keys"),
        "USER_TOKEN_RATE_LIMIT_PER_EMAIL": "10000000",
        "USER_TOKEN_RATE_LIMIT_PER_CLIENT": "10000000",
        "USER_LOG_LEVEL": "WARNING",
        # Spans are made and sampled as in production (ratio 0.1); with no collector running
        # they are not exported.
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    service_log = workdir / "user.log"
    service = _spawn(
        [sys.executable, "-m", "user_service.cli", "serve"], env=env, cwd=workdir, log=service_log
    )
    processes.append(service)
    base, admin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    _wait_ready(f"{admin}/readyz", service, service_log)
    token = httpx.post(
        f"{base}/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = httpx.get(f"{base}/v1/users/{hot_id}", headers=auth).text
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
    return Servers(base=base, admin=admin, bare=bare_url, auth=auth, hot_id=hot_id)


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
    auth_lua = _headers_lua(servers.auth)
    hot_url = f"{servers.base}/v1/users/{servers.hot_id}"
    # Warm-up: both servers, so neither pays first-request costs inside the measurement.
    _wrk("warm-up", servers.bare, seconds=2, connections=connections, lua="")
    _wrk("warm-up", hot_url, seconds=2, connections=connections, lua=auth_lua)
    results = [
        _wrk(
            "bare route (same JSON from memory)",
            servers.bare,
            seconds=seconds,
            connections=connections,
            lua="",
        ),
        _wrk(
            "GET /v1/users/{id}, cache hit",
            hot_url,
            seconds=seconds,
            connections=connections,
            lua=auth_lua,
        ),
    ]

    def lookups(result: str) -> float:
        return _metric(servers.admin, "cache_requests_total", cache="users", result=result)

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
    miss = _wrk(
        "GET /v1/users/{id}, cache miss",
        f"{servers.base}/v1/users/x",
        seconds=seconds,
        connections=connections,
        lua=miss_lua,
    )
    misses, hits = lookups("miss") - misses_before, lookups("hit") - hits_before
    miss.note = f"{misses / max(misses + hits, 1):.1%} of reads were misses"
    results.append(miss)
    login = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    token_lua = (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        + f"wrk.body = '{login}'\n"
    )
    results.append(
        _wrk(
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
        layers = asyncio.run(
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
    _report(results, layers, settings, output)
    return results


def _report(
    results: list[Result], layers: list[tuple[str, float]], settings: Settings, output: Path
) -> None:
    bare, hit = results[0], results[1]
    ratio = hit.throughput_rps / bare.throughput_rps
    hash_ms = _hash_time_ms(settings)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip(),
        "cpus": os.cpu_count(),
        "load_average_after": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "hit_to_bare_throughput": round(ratio, 3),
        "goal_hit_to_bare": 0.5,
        "argon2_hash_median_ms": hash_ms,
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / "user.json").write_text(
        json.dumps(
            {
                **meta,
                "results": [asdict(result) for result in results],
                "hit_path_cpu_us": dict(layers),
            },
            indent=2,
        )
        + "\n"
    )
    lines = [
        "# User service benchmark",
        "",
        "Produced by `make bench-user` (services/user/benchmarks/bench_user.py); "
        "do not edit by hand.",
        "",
        f"- {meta['date']}, commit `{meta['commit']}`, {meta['cpus']} CPUs shared with other work "
        f"(1-minute load average after the run: {meta['load_average_after']}), "
        f"Python {meta['python']}",
        "- one uvicorn worker per server (uvloop, httptools), loopback, load from `wrk -t1`;",
        "  each scenario runs for the same time, after a warm-up of both servers",
        "- the service runs as in production: auth (EdDSA JWT), RED metrics, spans sampled at 0.1",
        "  (not exported: no collector), JSON logs at WARNING",
        "",
        "| scenario | connections | requests/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.scenario} | {r.connections} | {r.throughput_rps:,.0f} | {r.p50_ms} | {r.p99_ms} "
        f"| {r.non_2xx} | {r.socket_errors} | {r.note} |"
        for r in results
    ]
    verdict = "met" if ratio >= 0.5 else "NOT met"
    lines += [
        "",
        f"**Cache hit / bare route throughput: {ratio:.2f}** (goal ≥ 0.50: {verdict}).",
        "",
        f"argon2id at the service's parameters (m={settings.argon2_memory_kib} KiB, "
        f"t={settings.argon2_time_cost}, p={settings.argon2_parallelism}): median "
        f"{hash_ms} ms per hash on one core of this machine.",
        "",
    ]
    lines += [
        "## Where a cache hit's time goes",
        "",
        "CPU per request in-process (services/user/benchmarks/breakdown.py): the service's own",
        "app and lifespan over the same PostgreSQL and Redis, 20 concurrent callers through ASGI,",
        "with routes that stop after each layer. One worker's throughput is bounded by this CPU.",
        "",
        "| layer | CPU µs / request | added |",
        "|---|---:|---:|",
    ]
    previous = None
    for label, micros in layers:
        added = "" if previous is None else f"{micros - previous:+.0f}"
        lines.append(f"| {label} | {micros:.0f} | {added} |")
        previous = micros
    (output / "user.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks")
    args = parser.parse_args()
    run(args.seconds, args.connections, args.output)


if __name__ == "__main__":
    main()
