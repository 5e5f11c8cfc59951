"""The benchmark's page: machine, commit, method, figures and charts, as Markdown."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from threadline_benchmarks.harness.page import machine
from threadline_benchmarks.load.sections import (
    cpu_section,
    floor_intro,
    floor_left_at_goal,
    floor_reproduce,
    reproduce,
)
from threadline_benchmarks.load.steps import BenchSettings, Step
from threadline_loadtests.runner import parse_duration

__all__ = ["render_doc"]


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
        floor_intro()
        if settings.floor
        else [
            "# Load benchmark: the mixed journey",
            "",
            "Written by `make bench` (`python -m threadline_benchmarks load`); the figures below",
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
        *machine(),
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
    lines += cpu_section(steps, best)
    if settings.floor:
        lines += floor_left_at_goal(steps)
    lines += ["## Charts", ""]
    lines += [f"![{chart.stem}]({chart.as_posix()})" for chart in charts]
    lines += ["", *(floor_reproduce() if settings.floor else reproduce())]
    return "\n".join(lines)
