"""`make bench`: the highest throughput of the mixed journey that holds p99 < 250 ms, no errors.

Method: open steps of offered load. Each step is its own bounded Locust run, confined to the
CPUs given (`taskset`), with `users = target / user_rps` users each pacing itself at `user_rps`
requests a second (Locust's constant_throughput), measured only once all users run. A step
holds when the mixed journey had no failure, a p99 within the limit and delivered at least
95% of the offered load (a system that falls behind shows up as missing throughput, not only
as latency). The climb goes up by `climb_step_rps` until a step fails, then bisects between the
last step that held and the first that did not. A step that fails is run once more and counts
as failed only if it fails again: on a shared machine a transient (a JVM pause, a compaction)
can fail one run of a load the system sustains, and one such run would misdirect the search.
"""

from __future__ import annotations

import math
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from threadline_benchmarks.load.charts import draw_bench_charts
from threadline_benchmarks.load.page import render_doc
from threadline_benchmarks.load.steps import STACK_PORTS, BenchSettings, Step, step_holds
from threadline_loadtests.charts import draw_charts, read_history
from threadline_loadtests.cpu_window import WindowSnapshots
from threadline_loadtests.journeys import MIXED
from threadline_loadtests.runner import (
    CPU_MARKS,
    HISTORY_CSV,
    RunPlan,
    prepare_test_data,
    run_locust,
)
from threadline_loadtests.summary import RunSummary

__all__ = ["best_step", "port_answers", "run_bench", "search", "search_and_write"]


def _run_step(
    settings: BenchSettings, target_rps: float, accounts_file: Path, attempt: int = 1
) -> Step:
    # +1: the paced sign-up user is one of the users and adds almost no load.
    users = math.ceil(target_rps / settings.user_rps) + 1
    out_dir = settings.out_dir / f"{target_rps:05.0f}rps" / f"run{attempt}"
    plan = RunPlan(
        out_dir=out_dir,
        host=settings.host,
        grpc_target=settings.grpc_target,
        users=users,
        spawn_rate=max(1.0, users / 5),
        run_time=settings.step_time,
        user_rps=settings.user_rps,
        trace_sample_ratio=settings.trace_sample_ratio,
        otlp_endpoint=settings.otlp_endpoint,
        measure_after_spawn=True,
        cpus=settings.cpus,
        cpu_marks_file=out_dir / CPU_MARKS,
        accounts_file=accounts_file,
    )
    print(f"bench: offering {target_rps:.0f} req/s with {users} users for {settings.step_time}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with WindowSnapshots(out_dir / CPU_MARKS) as stack_cpu:
        run_locust(plan, quiet=True)
    history = out_dir / HISTORY_CSV
    if history.exists():
        draw_charts(
            read_history(history),
            out_dir,
            title=f"{target_rps:.0f} req/s offered",
            p99_objective_ms=settings.p99_limit_ms,
        )
    summary_path = out_dir / "summary.json"
    summary = RunSummary.read(summary_path) if summary_path.exists() else None
    mixed = summary.journey(MIXED) if summary else None
    holds, why = step_holds(
        mixed,
        target_rps=target_rps,
        p99_limit_ms=settings.p99_limit_ms,
        min_delivered_share=settings.min_delivered_share,
    )
    if mixed is not None:
        print(
            f"bench:   {mixed.rps:.0f} req/s, p50 {mixed.p50_ms:.0f} / p95 {mixed.p95_ms:.0f} / "
            f"p99 {mixed.p99_ms:.0f} ms, {mixed.failures} failures: {why}"
        )
    else:
        print(f"bench:   {why}")
    cpu_ms = {**stack_cpu.ms_per_request(), **(summary.cpu_ms_per_request if summary else {})}
    return Step(target_rps, users, out_dir, summary, holds, why, cpu_ms, attempt)


def search(settings: BenchSettings, accounts_file: Path) -> list[Step]:
    """Climb (or, when the first step fails, halve) to bracket the limit, then bisect.

    Every step run, in the order run.
    """
    steps: list[Step] = []

    def run(target: float) -> bool:
        for attempt in range(1, settings.failed_step_reruns + 2):
            step = _run_step(settings, target, accounts_file, attempt)
            steps.append(step)
            if step.holds:
                return True
        return False

    highest_held: float | None = None
    lowest_failed: float | None = None
    target = settings.start_rps
    while lowest_failed is None and target <= settings.max_rps:
        if run(target):
            highest_held, target = target, target + settings.climb_step_rps
        else:
            lowest_failed = target
    while highest_held is None and lowest_failed is not None:
        target = lowest_failed / 2
        if target < settings.min_rps:
            return steps
        if run(target):
            highest_held = target
        else:
            lowest_failed = target
    if highest_held is None or lowest_failed is None:
        return steps  # held up to max_rps
    for _ in range(settings.bisect_steps):
        middle = round((highest_held + lowest_failed) / 2 / 10) * 10
        if middle in (highest_held, lowest_failed):
            break
        if run(middle):
            highest_held = middle
        else:
            lowest_failed = middle
    return steps


def run_bench(settings: BenchSettings) -> int:
    """Run the search, write its page; 0 when a step held."""
    _, best = search_and_write(settings)
    if best is None or best.mixed is None:
        print("bench: no step held p99 and zero errors")
        return 1
    print(f"bench: highest throughput holding the limits: {best.mixed.rps:.0f} req/s")
    return 0


def search_and_write(settings: BenchSettings) -> tuple[list[Step], Step | None]:
    """Prepare the test data, search, write the page and its charts.

    Every step run, and the best that held (None when none did).
    """
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    stack = {name: port_answers(port) for name, port in STACK_PORTS.items()}
    # One set of accounts for every step: preparing is not measured, and runs back to back
    # would otherwise meet the login throttle.
    prepared = prepare_test_data(
        RunPlan(
            out_dir=settings.out_dir,
            host=settings.host,
            trace_sample_ratio=settings.trace_sample_ratio,
            otlp_endpoint=settings.otlp_endpoint,
        )
    )
    assert prepared.accounts_file is not None
    steps = search(settings, prepared.accounts_file)
    load_after = os.getloadavg()
    best = best_step(steps)
    # Beside the page, named after it: load.md's charts in load/, floor.md's in floor/.
    chart_dir = settings.doc.parent / settings.doc.stem
    chart_dir.mkdir(parents=True, exist_ok=True)
    charts = draw_bench_charts(steps, best, chart_dir, settings)
    settings.doc.write_text(
        render_doc(
            settings=settings,
            steps=steps,
            best=best,
            started=started,
            load_before=load_before,
            load_after=load_after,
            stack=stack,
            charts=[chart.relative_to(settings.doc.parent) for chart in charts],
        )
    )
    print(f"bench: wrote {settings.doc}")
    return steps, best


def best_step(steps: list[Step]) -> Step | None:
    """The step that held with the highest delivered throughput, if any held."""
    held = [step for step in steps if step.holds and step.mixed is not None]
    return max(held, key=lambda step: step.mixed.rps if step.mixed else 0.0, default=None)


def port_answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
