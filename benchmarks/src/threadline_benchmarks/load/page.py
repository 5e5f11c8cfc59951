"""The benchmark's page: machine, commit, method, figures and charts, as Markdown."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt

from threadline_loadtests.cpu_window import LOAD_GENERATOR
from threadline_loadtests.runner import parse_duration

if TYPE_CHECKING:
    from threadline_loadtests.bench import BenchSettings, Step

__all__ = ["draw_bench_charts", "render_doc"]

# The bar, on this project's reference machine: 800 requests/s on 2 cores.
GOAL_RPS = 800
CORES = 2


def draw_bench_charts(
    steps: list[Step], best: Step | None, chart_dir: Path, settings: BenchSettings
) -> list[Path]:
    measured = [step for step in steps if step.mixed is not None]
    measured.sort(key=lambda step: step.target_rps)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    offered = [step.target_rps for step in measured]
    axes.plot(offered, [step.mixed.p99_ms for step in measured if step.mixed], "o-", label="p99")
    axes.plot(offered, [step.mixed.p95_ms for step in measured if step.mixed], "o-", label="p95")
    axes.plot(offered, [step.mixed.p50_ms for step in measured if step.mixed], "o-", label="p50")
    axes.axhline(settings.p99_limit_ms, linestyle="--", color="tab:red", label="p99 limit")
    axes.set_xlabel("offered load, requests/s")
    axes.set_ylabel("ms")
    axes.set_title("mixed journey: latency by offered load")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    steps_chart = chart_dir / "steps.png"
    figure.savefig(steps_chart, dpi=100)
    plt.close(figure)
    charts = [steps_chart]
    if best is not None:
        for name in ("throughput.png", "latency.png", "errors.png"):
            source = best.out_dir / name
            if source.exists():
                charts.append(Path(shutil.copyfile(source, chart_dir / f"best-{name}")))
    return charts


def _machine() -> list[str]:
    cpu_model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory = f"{int(first[1]) / 1024 / 1024:.1f} GiB"
    return [
        f"- CPU: {os.cpu_count()} x {cpu_model}",
        f"- memory: {memory}",
        f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
    ]


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _commit(doc: Path, charts: list[Path]) -> str:
    """HEAD, and whether the tree differs from it in anything but this run's own outputs.

    ``charts`` are relative to the page's directory, as the page links them.
    """

    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, timeout=10
        )
        return completed.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    # The charts are written before the page: they must not make the run look uncommitted.
    outputs = [doc, *(doc.parent / chart for chart in charts)]
    ignored = [f":(exclude){path.resolve()}" for path in outputs]
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", *ignored))
    return f"{head}" + (" (with uncommitted changes in the working tree)" if dirty else "")


def _row(step: Step) -> str:
    mixed = step.mixed
    summary = step.summary
    average = summary.generator_cpu_percent_avg if summary else None
    peak = summary.generator_cpu_percent_max if summary else None
    cpu = "-" if average is None or peak is None else f"{average:.0f} / {peak:.0f}"
    verdict = "**held**" if step.holds else step.why
    if step.attempt > 1:
        verdict += f" (run {step.attempt})"
    if mixed is None:
        return f"| {step.target_rps:.0f} | {step.users} | - | - | - | - | - | - | - | {verdict} |"
    return (
        f"| {step.target_rps:.0f} | {step.users} | {mixed.rps:.0f} | {mixed.p50_ms:.0f} | "
        f"{mixed.p95_ms:.0f} | {mixed.p99_ms:.0f} | {mixed.max_ms:.0f} | {mixed.failures} | "
        f"{cpu} | {verdict} |"
    )


def _system_ms(step: Step) -> float:
    return sum(ms for name, ms in step.cpu_ms_per_request.items() if name != LOAD_GENERATOR)


def _cpu_section(steps: list[Step], best: Step | None) -> list[str]:
    """CPU per request by component: the figure the neighbours on a shared machine cannot move."""
    measured = [step for step in steps if step.cpu_ms_per_request]
    if not measured:
        return []
    # Background work (Kafka, the outbox relay's polling, exporters) is spread over fewer
    # requests at low rates: the busiest step is the closest to what one more request costs.
    reference = max(measured, key=lambda step: step.mixed.rps if step.mixed else 0.0)
    system_ms = _system_ms(reference)
    lines = [
        f"## CPU per request ({reference.target_rps:.0f} req/s offered, the busiest step)",
        "",
        "CPU time (user + system) each component used over the step's measured stretch (from",
        "the moment every user ran to the moment Locust started stopping), divided by the",
        "requests Locust sent in that time. The load generator's is its own process's CPU time,",
        "every thread included; the others' are found by their ports (PostgreSQL and Redis by",
        "process name). The data stores also served other work on this shared machine during",
        "the step, so their share is an upper bound. Background work is spread over fewer",
        "requests at low rates, so the figure falls as the load rises.",
        "",
        "| component | CPU ms / request |",
        "|---|---:|",
        *(
            f"| {name} | {ms:.2f} |"
            for name, ms in sorted(reference.cpu_ms_per_request.items(), key=lambda kv: -kv[1])
        ),
        f"| **system (all but the load generator)** | **{system_ms:.2f}** |",
        "",
    ]
    if system_ms > 0:
        generator_ms = reference.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0)
        # The generator shares the two cores: at the goal it takes its part of them first.
        budget_ms = (CORES * 1000 - GOAL_RPS * generator_ms) / GOAL_RPS
        lines += [
            f"At {system_ms:.2f} ms of CPU per request, the two cores less the load generator's "
            f"{generator_ms:.2f} ms would serve at most about "
            f"{CORES * 1000 / (system_ms + generator_ms):.0f} requests/s of this mix before any "
            f"queueing. The goal of {GOAL_RPS} requests/s leaves the system at most "
            f"{budget_ms:.2f} ms per request (2.5 ms less the generator's share).",
            "",
        ]
    lines += [
        "| offered req/s | system CPU ms / request | load generator CPU ms / request |",
        "|---:|---:|---:|",
        *(
            f"| {step.target_rps:.0f} | {_system_ms(step):.2f} | "
            f"{step.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0):.2f} |"
            for step in measured
        ),
        "",
    ]
    return lines


def render_doc(
    *,
    settings: BenchSettings,
    steps: list[Step],
    best: Step | None,
    started: datetime,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    stack: dict[str, bool],
    charts: list[Path],
) -> str:
    up = ", ".join(name for name, answers in stack.items() if answers) or "nothing"
    down = ", ".join(name for name, answers in stack.items() if not answers) or "nothing"
    lines = (
        _floor_intro()
        if settings.floor
        else [
            "# Load benchmark: the mixed journey",
            "",
            "Written by `make bench` (`python -m threadline_loadtests bench`); the figures below",
            "are one measured run, not a target. Rerun it to refresh this page.",
            "",
        ]
    )
    if best is not None and best.mixed is not None:
        mixed = best.mixed
        lines += [
            f"**Result: {mixed.rps:.0f} requests/s** sustained by the mixed journey with "
            f"p99 {mixed.p99_ms:.0f} ms (limit {settings.p99_limit_ms:.0f} ms) and no errors "
            f"(p50 {mixed.p50_ms:.0f} ms, p95 {mixed.p95_ms:.0f} ms), "
            f"at trace sampling {settings.trace_sample_ratio:g}.",
        ]
    else:
        lines.append("**Result: no step held p99 within the limit with zero errors.**")
    if settings.note:
        lines += ["", settings.note]
    lines += [
        "",
        "## Machine and setup",
        "",
        *_machine(),
        f"- commit: {_commit(settings.doc, charts)}",
        f"- run: {started.isoformat(timespec='seconds')}",
        f"- load average (1/5/15 min) before: {' / '.join(f'{v:.2f}' for v in load_before)}, "
        f"after: {' / '.join(f'{v:.2f}' for v in load_after)} (the machine is shared)",
        f"- answering on their ports during the run: {up}",
        f"- not answering: {down}",
        f"- Locust confined to CPU(s) `{settings.cpus}` (`taskset -c`); everything else unpinned",
        f"- target: {settings.host} (HTTP), {settings.grpc_target} (gRPC)",
        f"- tracing: the load generator samples {settings.trace_sample_ratio:g} of requests; "
        + (
            "the floor services trace nothing"
            if settings.floor
            else "the services' samplers are parent-based, so they trace the same share"
        )
        + "; client spans "
        + (
            f"exported to {settings.otlp_endpoint}"
            if settings.otlp_endpoint
            else "not exported" + ("" if settings.floor else " (the services export theirs)")
        ),
        "",
        "## Method",
        "",
        f"Each step is a separate headless Locust run of {parse_duration(settings.step_time)} s"
        " with `users = offered / "
        f"{settings.user_rps:g}` users, each pacing itself at {settings.user_rps:g} requests/s "
        "(Locust's `constant_throughput`), plus the one paced sign-up user. Statistics are "
        "reset once every user runs (`--reset-stats`), so ramp-up is not measured; the test "
        "data (20 accounts) is prepared before the first user starts. Users are split evenly "
        "between the HTTP profile journey (read own profile 6, read by id 3, update 1) and the "
        "gRPC order journey (get 6, list 4, create 3, retry a create with its idempotency "
        "key 1, cancel 1).",
        "",
        f"A step **holds** when the mixed journey (every request) had no failure, p99 at most "
        f"{settings.p99_limit_ms:.0f} ms and delivered at least "
        f"{settings.min_delivered_share:.0%} of the offered load. Steps climb by "
        f"{settings.climb_step_rps:.0f} requests/s from {settings.start_rps:.0f} until one does "
        "not hold (or, when the first does not, halve until one does), then bisect "
        f"({settings.bisect_steps} steps at most). A step that does not hold is run again "
        f"({_times(settings.failed_step_reruns)} at most) and counts as failed only if no run "
        "holds: on this shared machine a transient (a JVM pause, a compaction) can fail one run "
        "of a load the system sustains. Every run is in the table.",
        "",
        "## Steps",
        "",
        "| offered req/s | users | delivered req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| failures | Locust CPU % avg / max | verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *(_row(step) for step in steps),
        "",
    ]
    if best is not None and best.summary is not None:
        lines += [
            f"## Journeys at the best step ({best.target_rps:.0f} req/s offered)",
            "",
            "| journey | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {name} | {figures.requests} | {figures.rps:.1f} | {figures.p50_ms:.0f} | "
                f"{figures.p95_ms:.0f} | {figures.p99_ms:.0f} | {figures.max_ms:.0f} | "
                f"{figures.failures} |"
                for name, figures in best.summary.journeys_in_order()
            ),
            "",
            "| request | requests | p50 ms | p95 ms | p99 ms | max ms | slowest trace id "
            "| slowest sampled trace id (ms) |",
            "|---|---:|---:|---:|---:|---:|---|---|",
            *(
                f"| `{request.name}` | {request.figures.requests} | {request.figures.p50_ms:.0f} | "
                f"{request.figures.p95_ms:.0f} | {request.figures.p99_ms:.0f} | "
                f"{request.figures.max_ms:.0f} | "
                f"{request.slowest[0].trace_id if request.slowest else '-'} | "
                + (
                    f"{request.sampled_slowest[0].trace_id} "
                    f"({request.sampled_slowest[0].response_time_ms:.0f})"
                    if request.sampled_slowest
                    else "-"
                )
                + " |"
                for request in best.summary.requests
            ),
            "",
        ]
        if not settings.floor:
            lines += [
                "Every request's trace id reaches the services' log lines; the sampled ones are "
                "also traces in Jaeger (`http://127.0.0.1:16686/api/traces/<id>`; under compose "
                "in Tempo too).",
                "",
            ]
    lines += _cpu_section(steps, best)
    if settings.floor:
        lines += _floor_left_at_goal(steps)
    lines += ["## Charts", ""]
    lines += [f"![{chart.stem}]({chart.as_posix()})" for chart in charts]
    lines += ["", *(_floor_reproduce() if settings.floor else _reproduce())]
    return "\n".join(lines)


def _reproduce() -> list[str]:
    return [
        "## Reproduce",
        "",
        "```console",
        "make up      # the full stack",
        "make bench   # about 10 minutes; rewrites this page and docs/benchmarks/load/",
        "python -m threadline_loadtests generator-cost   # the generator alone, by user class",
        "```",
        "",
        "What the load generator costs per request of each user class, against stub services, is "
        "in [load/generator.md](load/generator.md). What the two services' frameworks and the "
        "load generator cost with nothing behind them, the floor under every figure above, is in "
        "[floor.md](floor.md).",
        "",
        "Per-step Locust reports (HTML, CSV, charts, verdicts) are under `reports/bench/`.",
        "",
    ]


def _floor_intro() -> list[str]:
    return [
        "# Load benchmark: the frameworks alone (the floor)",
        "",
        "Written by `make bench-floor` (`python -m threadline_loadtests floor`); one measured "
        "run, not a target. The same steps, journeys and verdict as `make bench` "
        "([load.md](load.md)), against the two services' frameworks with nothing behind them "
        "(`threadline_loadtests.floor_services`): FastAPI under uvicorn on the user API's port "
        "and grpc.aio on the order service's, both on uvloop as the services run, answering "
        "fixed data; CreateOrder still checks the account over HTTP with httpx. No database, "
        "cache, event log, telemetry, authentication or validation. The rows named "
        "*user service* and *order service* below are these two processes.",
        "",
        "What the real services may spend per request is what this page's CPU figures leave of "
        f"two cores: at {GOAL_RPS} requests/s, {CORES * 1000 / GOAL_RPS:.1f} ms per request in "
        "all.",
        "",
    ]


def _floor_left_at_goal(steps: list[Step]) -> list[str]:
    """What the frameworks and the generator leave of two cores at the goal's load."""
    at_goal = [step for step in steps if step.target_rps == GOAL_RPS and step.cpu_ms_per_request]
    if not at_goal:
        return []
    step = at_goal[0]
    generator_ms = step.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0)
    frameworks_ms = _system_ms(step)
    left_ms = CORES * 1000 / GOAL_RPS - generator_ms - frameworks_ms
    return [
        f"**Left at the goal.** At {GOAL_RPS} requests/s offered, the load generator took "
        f"{generator_ms:.2f} ms and the two frameworks {frameworks_ms:.2f} ms of CPU per "
        f"request: {left_ms:.2f} ms of the {CORES * 1000 / GOAL_RPS:.1f} ms two cores allow "
        "are left for everything the real services do beyond their frameworks, with the "
        "data stores, Kafka and the observability backends they use.",
        "",
    ]


def _floor_reproduce() -> list[str]:
    return [
        "## Reproduce",
        "",
        "```console",
        "make down         # the floor needs the services' ports (the CPU accounting finds "
        "components by port)",
        "make bench-floor  # about 10 minutes; rewrites this page and docs/benchmarks/floor/",
        "```",
        "",
        "Per-step Locust reports (HTML, CSV, charts, verdicts) are under `reports/bench-floor/`.",
        "",
    ]
