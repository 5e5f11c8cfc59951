"""What Toxiproxy's pass-through costs at the load of `make load`, through the proxies and direct.

Needs the native stack up (`make up`): its PostgreSQL, Redis, Kafka and Toxiproxy. The stack's
own services are left alone; for each mode this starts a fresh user + order pair on free ports
and drives it with `make load`'s plan (20 users x 3 req/s, 60 s, measured after ramp-up):

- proxied: user -> user-postgres, user-redis; order -> order-postgres, order-kafka (the outbox
  relay), and order -> user through a temporary proxy to this pair's user service (the stack's
  `order-user` points at the stack's user service);
- direct: the same settings with each proxy's upstream instead.

The pairs export no telemetry and run no orders.v1 consumer (a process of its own in the stack,
off the request path), so the two modes differ only in the path to their dependencies. Modes
alternate for `--rounds` rounds. Printed per run: req/s, p50/p99 of the mixed journey, the
services' CPU ms per request and Toxiproxy's CPU seconds per 1000 requests (its process, whoever
else uses it: the direct runs show that floor). `--doc` records the runs in
docs/benchmarks/toxiproxy.json, the figures docs/benchmarks/toxiproxy.md discusses.

    make bench-toxiproxy [BENCH_ARGS="--rounds 2 --run-time 60s --doc"]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from threadline_benchmarks.harness.page import RESULTS as DOCS
from threadline_benchmarks.harness.page import ROOT
from threadline_benchmarks.harness.processes import cpu_seconds
from threadline_loadtests.journeys import MIXED
from threadline_loadtests.local_services import LocalServices, start_services
from threadline_loadtests.runner import SUMMARY_JSON, RunPlan, prepare_test_data, run_locust
from threadline_loadtests.summary import RunSummary
from threadline_native.components.toxiproxy import Toxiproxy
from threadline_native.net import free_port
from threadline_native.proxies import Proxy, native_config, parse_proxies
from threadline_native.stack import load_context, select
from threadline_native.toxiproxy_api import ToxiproxyApi

DOC = DOCS / "toxiproxy.md"
RESULTS = DOCS / "toxiproxy.json"
CREDENTIALS = "threadline:threadline"


@dataclass(frozen=True)
class ModeRun:
    mode: str
    round: int
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float
    services_cpu_ms_per_request: float
    toxiproxy_cpu_s_per_1000: float


def _settings(proxies: dict[str, Proxy], *, proxied: bool) -> dict[str, str]:
    """host:port per dependency: the proxy's listen address, or its upstream."""
    pick = {p.name: (p.listen if proxied else p.upstream) for p in proxies.values()}
    return {
        "user_db": f"postgresql+asyncpg://{CREDENTIALS}@{pick['user-postgres']}/users",
        "order_db": f"postgresql+asyncpg://{CREDENTIALS}@{pick['order-postgres']}/orders",
        "redis": f"redis://{pick['user-redis']}/0",
        "user_kafka": pick["user-kafka"],
        "order_kafka": pick["order-kafka"],
    }


@contextmanager
def _service_pair(
    api: ToxiproxyApi, proxies: dict[str, Proxy], *, proxied: bool, workdir: Path
) -> Iterator[LocalServices]:
    ports = (free_port(), free_port(), free_port(), free_port())
    settings = _settings(proxies, proxied=proxied)
    user_address = f"127.0.0.1:{ports[0]}"
    temporary = f"bench-order-user-{uuid.uuid4().hex[:8]}"
    if proxied:
        created = api.create_proxy(name=temporary, listen="127.0.0.1:0", upstream=user_address)
        user_address = str(created["listen"])
    services = None
    try:
        services = start_services(
            user_database_url=settings["user_db"],
            orders_database_url=settings["order_db"],
            redis_url=settings["redis"],
            ports=ports,
            workdir=workdir,
            user_env={
                "USER_KAFKA_BOOTSTRAP_SERVERS": settings["user_kafka"],
                "USER_ORDERS_CONSUMER_ENABLED": "false",
            },
            order_env={
                "ORDER_KAFKA_BOOTSTRAP_SERVERS": settings["order_kafka"],
                "ORDER_USER_SERVICE_URL": f"http://{user_address}",
            },
        )
        yield services
    finally:
        if services is not None:
            services.stop()
        if proxied:
            api.delete_proxy(temporary)


def _run_mode(
    api: ToxiproxyApi,
    proxies: dict[str, Proxy],
    toxiproxy_pid: int,
    *,
    mode: str,
    round_number: int,
    run_time: str,
    out: Path,
) -> ModeRun:
    run_dir = out / f"{round_number}-{mode}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with _service_pair(api, proxies, proxied=mode == "proxied", workdir=run_dir) as pair:
        plan = prepare_test_data(
            RunPlan(
                out_dir=run_dir,
                host=pair.user.address,
                grpc_target=pair.order.address,
                run_time=run_time,
                measure_after_spawn=True,
            )
        )
        pids = (pair.user.process.pid, pair.order.process.pid)
        services_before = sum(cpu_seconds(pid) for pid in pids)
        toxiproxy_before = cpu_seconds(toxiproxy_pid)
        code = run_locust(plan, quiet=True)
        toxiproxy_spent = cpu_seconds(toxiproxy_pid) - toxiproxy_before
        services_spent = sum(cpu_seconds(pid) for pid in pids) - services_before
    if code not in (0, 1):
        raise RuntimeError(f"Locust exited with {code} ({run_dir})")
    summary = RunSummary.read(run_dir / SUMMARY_JSON)
    mixed = summary.journey(MIXED)
    if mixed is None:
        raise RuntimeError(f"no {MIXED} journey in {run_dir / SUMMARY_JSON}")
    # CPU is read over the whole Locust run (ramp-up included): divide by all its requests.
    total = sum(item.figures.requests for item in summary.requests) or 1
    return ModeRun(
        mode=mode,
        round=round_number,
        requests=mixed.requests,
        failures=mixed.failures,
        rps=mixed.rps,
        p50_ms=mixed.p50_ms,
        p99_ms=mixed.p99_ms,
        services_cpu_ms_per_request=services_spent * 1000 / total,
        toxiproxy_cpu_s_per_1000=toxiproxy_spent * 1000 / total,
    )


def _table(runs: list[ModeRun]) -> str:
    lines = [
        "| round | mode | requests | failures | req/s | p50 ms | p99 ms "
        "| services CPU ms/req | Toxiproxy CPU s/1000 req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {run.round} | {run.mode} | {run.requests} | {run.failures} | {run.rps:.1f} "
        f"| {run.p50_ms:.0f} | {run.p99_ms:.0f} | {run.services_cpu_ms_per_request:.2f} "
        f"| {run.toxiproxy_cpu_s_per_1000:.3f} |"
        for run in runs
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="proxied+direct pairs (max 3)")
    parser.add_argument("--run-time", default="60s", help="per run, as make load (60s)")
    parser.add_argument("--doc", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    rounds = max(1, min(args.rounds, 3))  # bounded: each round is two full load runs
    (toxiproxy,) = select(load_context(), ["toxiproxy"])
    assert isinstance(toxiproxy, Toxiproxy)
    pid = toxiproxy.pid_file.live_pid()
    if pid is None or not toxiproxy.healthy():
        print("bench-toxiproxy: the native stack's Toxiproxy is not running: `make up`")
        return 2
    api = ToxiproxyApi(toxiproxy.url)
    proxies = {p.name: p for p in parse_proxies(native_config())}
    if missing := proxies.keys() - api.proxies().keys():
        print(f"bench-toxiproxy: Toxiproxy lacks the proxies {sorted(missing)}: `make up`")
        return 2
    runs: list[ModeRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-toxiproxy-") as scratch:
        for round_number in range(1, rounds + 1):
            for mode in ("proxied", "direct"):
                run = _run_mode(
                    api,
                    proxies,
                    pid,
                    mode=mode,
                    round_number=round_number,
                    run_time=args.run_time,
                    out=Path(scratch),
                )
                runs.append(run)
                print(_table([run]).splitlines()[-1], flush=True)
    print("\n" + _table(runs))
    if args.doc:
        RESULTS.write_text(
            json.dumps(
                {
                    "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                    "run_time": args.run_time,
                    "runs": [dataclasses.asdict(run) for run in runs],
                },
                indent=2,
            )
            + "\n"
        )
        print(f"results: {RESULTS.relative_to(ROOT)} (discussed in {DOC.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
