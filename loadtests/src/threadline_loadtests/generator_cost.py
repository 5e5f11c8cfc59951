"""What the load generator itself spends per request, by user class, against free answers.

`python -m threadline_loadtests generator-cost` starts the stub services (stub_services) and
runs each user class alone against them, Locust confined to one CPU as in the benchmark, and
reads its CPU per request over the measured stretch (cpu_window). The sampled client spans
are exported over OTLP to the stubs' trace sink, so exporting is in the figure too.

Why it matters: the benchmark gives Locust CPU 1 and leaves the system unpinned, so every
microsecond the generator spends on a request is one the system does not get on that core,
and a busy generator reads its answers late.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from threadline_loadtests.accounts import Account, Identity, save_accounts
from threadline_loadtests.cpu_window import LOAD_GENERATOR
from threadline_loadtests.journeys import MIXED
from threadline_loadtests.runner import SUMMARY_JSON, RunPlan, run_locust
from threadline_loadtests.stub_services import running_stand_in
from threadline_loadtests.summary import RunSummary

__all__ = ["ClassCost", "measure_generator_cost", "render_generator_doc"]

# The user classes whose traffic the benchmark measures (the one paced sign-up user is noise).
USER_CLASSES = {"AccountHolder": "HTTP profile journey", "Shopper": "gRPC order journey"}
STUB_ACCOUNT = Account(
    id="7d2c1f1e-0000-4000-8000-000000000001",
    # A synthetic identity the stubs never check (they log nobody in).
    identity=Identity(email="load-stub@example.com", full_name="Load Stub", password=""),
    token="stub." + "t" * 300,
    # The stubs never check it; far enough ahead that no run refreshes it.
    token_expires_at=4_102_444_800.0,
)


@dataclass(frozen=True, slots=True)
class ClassCost:
    user_class: str
    users: int
    delivered_rps: float
    p99_ms: float
    failures: int
    # None when the run measured nothing (too short, or Locust failed).
    cpu_us_per_request: float | None


def measure_generator_cost(
    *,
    out_dir: Path,
    http_port: int,
    grpc_port: int,
    users: int,
    user_rps: float,
    run_time: str,
    cpus: str,
    trace_sample_ratio: float,
) -> list[ClassCost]:
    """Run each user class alone against the stubs; its CPU per request, and how it ran."""
    accounts_file = out_dir / "accounts.json"
    save_accounts([STUB_ACCOUNT], accounts_file)
    costs = []
    with running_stand_in(
        "threadline_loadtests.stub_services", f"--http-port={http_port}", f"--grpc-port={grpc_port}"
    ):
        for user_class in USER_CLASSES:
            run_dir = out_dir / user_class
            run_locust(
                RunPlan(
                    out_dir=run_dir,
                    host=f"http://127.0.0.1:{http_port}",
                    grpc_target=f"127.0.0.1:{grpc_port}",
                    users=users,
                    spawn_rate=users,
                    run_time=run_time,
                    user_rps=user_rps,
                    accounts_file=accounts_file,
                    trace_sample_ratio=trace_sample_ratio,
                    otlp_endpoint=f"http://127.0.0.1:{grpc_port}",
                    measure_after_spawn=True,
                    cpus=cpus,
                    user_classes=(user_class,),
                ),
                quiet=True,
            )
            costs.append(_class_cost(user_class, users, run_dir / SUMMARY_JSON))
    return costs


def _class_cost(user_class: str, users: int, summary_path: Path) -> ClassCost:
    if not summary_path.exists():
        return ClassCost(user_class, users, 0.0, 0.0, 0, None)
    summary = RunSummary.read(summary_path)
    mixed = summary.journey(MIXED)
    ms = summary.cpu_ms_per_request.get(LOAD_GENERATOR)
    return ClassCost(
        user_class=user_class,
        users=users,
        delivered_rps=mixed.rps if mixed else 0.0,
        p99_ms=mixed.p99_ms if mixed else 0.0,
        failures=mixed.failures if mixed else 0,
        cpu_us_per_request=None if ms is None else ms * 1000,
    )


def render_generator_doc(
    costs: list[ClassCost],
    *,
    user_rps: float,
    run_time: str,
    cpus: str,
    trace_sample_ratio: float,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    started: datetime | None = None,
) -> str:
    started = started or datetime.now(UTC)
    rows = [
        f"| {cost.user_class} ({USER_CLASSES.get(cost.user_class, '?')}) | {cost.users} | "
        f"{cost.delivered_rps:.0f} | {cost.p99_ms:.0f} | {cost.failures} | "
        + ("-" if cost.cpu_us_per_request is None else f"{cost.cpu_us_per_request:.0f}")
        + " |"
        for cost in costs
    ]
    measured = [cost.cpu_us_per_request for cost in costs if cost.cpu_us_per_request is not None]
    mix = sum(measured) / len(measured) if len(measured) == len(costs) and costs else None
    lines = [
        "# Load generator: CPU per request",
        "",
        "Written by `python -m threadline_loadtests generator-cost`: each user class of the",
        "load test runs alone, Locust confined to CPU(s) "
        f"`{cpus}` as in `make bench`, against stub services that answer at almost no cost "
        "(`threadline_loadtests.stub_services`: the user service's routes over HTTP/1.1, "
        "`order.v1.OrderService` and an OTLP trace sink over gRPC). Each user paces itself "
        f"at {user_rps:g} requests/s; each run lasts {run_time}, measured once every user "
        "runs. The figure is the Locust process's CPU time (every thread) over that stretch, "
        "divided by the requests it sent: tracing (sampling "
        f"{trace_sample_ratio:g}, sampled spans exported over OTLP), statistics, the "
        "slowest-request heaps and Locust's own bookkeeping included.",
        "",
        f"- run: {started.isoformat(timespec='seconds')}; {os.cpu_count()} CPUs",
        f"- load average (1/5/15 min) before: {' / '.join(f'{v:.2f}' for v in load_before)}, "
        f"after: {' / '.join(f'{v:.2f}' for v in load_after)} (the machine is shared: the "
        "figures move with the neighbours' load, by tens of microseconds)",
        "",
        "| user class | users | delivered req/s | p99 ms | failures | CPU us / request |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    if mix is not None:
        lines += [
            f"The benchmark's mix (half the users of each class) costs the generator about "
            f"{mix:.0f} us per request: at 800 requests/s that is {mix * 800 / 10_000:.0f}% of "
            "one core.",
            "",
        ]
    return "\n".join(lines)
