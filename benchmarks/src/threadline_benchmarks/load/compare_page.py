"""docs/benchmarks/compare.md and .json: the full stack's throughput over the floor's, and CPU
per request per service, from one `make bench-compare` run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from threadline_benchmarks.harness.page import ROOT, commit, machine
from threadline_benchmarks.load.steps import BenchSettings, Step

__all__ = [
    "CPU_GOAL_MS",
    "RATIO_GOAL",
    "SERVICES",
    "Comparison",
    "Part",
    "comparison_data",
    "render_comparison",
    "throughput_ratio",
]

# Issue 19, goal 1: the stack holds at least half the floor's throughput, and the two
# services together spend at most 1.4 ms of CPU per request of the mixed journey.
RATIO_GOAL = 0.50
CPU_GOAL_MS = 1.4
# The components the CPU accounting finds by the services' ports (threadline_loadtests.cpu_cost).
SERVICES = ("user service", "order service")


@dataclass(frozen=True, slots=True)
class Part:
    """One half of the comparison: every step it ran and the best that held."""

    steps: list[Step]
    best: Step | None

    @property
    def capped(self) -> bool:
        """Every step held: the search stopped at --max-rps, not at the part's limit."""
        return bool(self.steps) and all(step.holds for step in self.steps)

    @property
    def rps(self) -> float | None:
        mixed = self.best.mixed if self.best is not None else None
        return mixed.rps if mixed is not None else None

    def services_ms(self, step: Step | None = None) -> dict[str, float]:
        """CPU ms per request of each service at `step` (the best one by default)."""
        chosen = self.best if step is None else step
        if chosen is None:
            return {}
        return {
            name: chosen.cpu_ms_per_request[name]
            for name in SERVICES
            if name in chosen.cpu_ms_per_request
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """One run of both parts: what the page and its JSON are written from."""

    settings: BenchSettings
    floor: Part
    stack: Part
    started: datetime
    # The 1/5/15-minute load averages before the first part and after the second.
    load: tuple[str, str]


def throughput_ratio(floor: Part, stack: Part) -> float | None:
    """The stack's best delivered throughput over the floor's; None unless both held a step."""
    if floor.rps is None or stack.rps is None or floor.rps <= 0:
        return None
    return stack.rps / floor.rps


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _part_row(name: str, part: Part, settings: BenchSettings, page: str) -> str:
    best = part.best
    if best is None or best.mixed is None:
        return f"| {name} | no step held | - | - | - | {len(part.steps)} | [{page}]({page}) |"
    mixed = best.mixed
    return (
        f"| {name} | {best.target_rps:.0f} | **{mixed.rps:.0f}** | {mixed.p50_ms:.0f} | "
        f"{mixed.p99_ms:.0f} | {len(part.steps)} | [{page}]({page}) |"
    )


def _common_loads(floor: Part, stack: Part) -> list[tuple[Step, Step]]:
    """Pairs of held steps at the same offered load, with CPU figures on both sides."""
    floor_by_load = {
        step.target_rps: step for step in floor.steps if step.holds and step.cpu_ms_per_request
    }
    return [
        (floor_by_load[step.target_rps], step)
        for step in stack.steps
        if step.holds and step.cpu_ms_per_request and step.target_rps in floor_by_load
    ]


def render_comparison(comparison: Comparison) -> str:
    """The Markdown page."""
    settings, floor_part, stack_part = comparison.settings, comparison.floor, comparison.stack
    started, load = comparison.started, comparison.load
    ratio = throughput_ratio(floor_part, stack_part)
    stack_ms = stack_part.services_ms()
    floor_ms = floor_part.services_ms()
    stack_sum = sum(stack_ms.values()) if stack_ms else None
    parts_dir = os.path.relpath(settings.doc.parent / settings.doc.stem, settings.doc.parent)
    lines = [
        "# Load benchmark: the full stack against the frameworks' floor",
        "",
        "Written by `make bench-compare` (`python -m threadline_benchmarks compare`); one",
        "measured run, not a target. Issue 19's first goal: the mixed journey on the full stack",
        f"holds at least {RATIO_GOAL:.2f} of what the same journey holds against the bare",
        f"frameworks (the floor, [{parts_dir}/floor.md]({parts_dir}/floor.md)), both measured",
        f"in this one run, and the two services spend at most {CPU_GOAL_MS} ms of CPU per",
        "request together.",
        "",
    ]
    if ratio is not None:
        lines.append(
            f"**Result: the stack holds {ratio:.2f} of the floor** ({stack_part.rps:.0f} of "
            f"{floor_part.rps:.0f} requests/s, p99 < {settings.p99_limit_ms:.0f} ms, no errors, "
            f"tracing {settings.trace_sample_ratio:g}; goal ≥ {RATIO_GOAL:.2f}); the two "
            f"services spend {_ms(stack_sum)} ms of CPU per request together at the stack's "
            f"best step (goal ≤ {CPU_GOAL_MS})."
        )
    else:
        lines.append("**Result: no ratio: a part held no step** (see its page).")
    for name, part, bound in (("floor", floor_part, "upper"), ("stack", stack_part, "lower")):
        if part.capped:
            lines += [
                "",
                f"The {name} held every step up to `--max-rps` ({settings.max_rps:.0f}): its "
                f"figure is a lower bound and the ratio an {bound} bound; rerun with a higher "
                "`--max-rps`.",
            ]
    if settings.note:
        lines += ["", settings.note]
    lines += [
        "",
        "## Machine and setup",
        "",
        *machine(),
        f"- commit: {commit()}",
        f"- run: {started.isoformat(timespec='seconds')}",
        f"- load average (1/5/15 min) before: {load[0]}; after: {load[1]} (the machine may be "
        "shared: compare the two parts of one run, not runs)",
        f"- both parts: start {settings.start_rps:.0f} req/s, climb "
        f"{settings.climb_step_rps:.0f}, bisect {settings.bisect_steps} steps, "
        f"{settings.step_time} per step, users pacing at {settings.user_rps:g} req/s, "
        f"Locust on CPU(s) `{settings.cpus}`, tracing {settings.trace_sample_ratio:g}",
        "",
        "## Highest throughput holding the limits",
        "",
        "| part | offered req/s | delivered req/s | p50 ms | p99 ms | steps run | page |",
        "|---|---:|---:|---:|---:|---:|---|",
        _part_row("floor (bare frameworks)", floor_part, settings, f"{parts_dir}/floor.md"),
        _part_row("full stack", stack_part, settings, f"{parts_dir}/stack.md"),
        "",
        "## CPU per request per service",
        "",
        "Each service's process CPU time (user + system, from /proc, found by its port) over a",
        "step's measured stretch, divided by the requests Locust sent in it, at each part's best",
        "step. The floor's *services* are the bare FastAPI and grpc.aio processes on the same",
        "ports; what the real service adds over its framework is the last column.",
        "",
        "| service | floor ms / request | stack ms / request | stack - floor |",
        "|---|---:|---:|---:|",
    ]
    for name in SERVICES:
        added = stack_ms[name] - floor_ms[name] if name in stack_ms and name in floor_ms else None
        lines.append(
            f"| {name} | {_ms(floor_ms.get(name))} | {_ms(stack_ms.get(name))} | {_ms(added)} |"
        )
    floor_sum = sum(floor_ms.values()) if floor_ms else None
    lines += [f"| **both** | {_ms(floor_sum)} | **{_ms(stack_sum)}** | |", ""]
    pairs = _common_loads(floor_part, stack_part)
    if pairs:
        lines += [
            "At each offered load both parts held (background work spreads over fewer requests",
            "at low rates, so the same load is the fairer comparison):",
            "",
            "| offered req/s | floor user | floor order | stack user | stack order | stack both |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for floor_step, stack_step in pairs:
            bare, full = floor_part.services_ms(floor_step), stack_part.services_ms(stack_step)
            lines.append(
                f"| {stack_step.target_rps:.0f} | {_ms(bare.get(SERVICES[0]))} | "
                f"{_ms(bare.get(SERVICES[1]))} | {_ms(full.get(SERVICES[0]))} | "
                f"{_ms(full.get(SERVICES[1]))} | {_ms(sum(full.values()))} |"
            )
        lines.append("")
    lines += [
        "## Method",
        "",
        "The floor part is `make bench-floor`'s search (the floor services on the services'",
        "ports, stack down), the stack part `make bench`'s (after `stack up`), with the same",
        "settings, so both climb the same list of offered loads until one does not hold and",
        "bisect from there; each part's page lists every step run. A step holds with no failure,",
        f"p99 at most {settings.p99_limit_ms:.0f} ms and at least 95% of the offered load",
        "delivered. Reproduce: `make down && make bench-compare` (BENCH_ARGS for options,",
        "e.g. `--step-time 20s --climb-rps 400` for a quicker, coarser run).",
        "",
    ]
    return "\n".join(lines)


def _step_data(step: Step) -> dict[str, Any]:
    mixed = step.mixed
    return {
        "offered_rps": step.target_rps,
        "attempt": step.attempt,
        "holds": step.holds,
        "why": step.why,
        "delivered_rps": mixed.rps if mixed else None,
        "p99_ms": mixed.p99_ms if mixed else None,
        "failures": mixed.failures if mixed else None,
        "cpu_ms_per_request": step.cpu_ms_per_request,
    }


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    """The page's figures as JSON (compare.json)."""
    settings, floor_part, stack_part = comparison.settings, comparison.floor, comparison.stack
    started, load = comparison.started, comparison.load
    stack_ms = stack_part.services_ms()
    return {
        "run": started.isoformat(timespec="seconds"),
        "commit": commit(),
        "load_average": {"before": load[0], "after": load[1]},
        "trace_sample_ratio": settings.trace_sample_ratio,
        "step_time": settings.step_time,
        "pages": {
            name: os.path.relpath(settings.doc.parent / settings.doc.stem / f"{name}.md", ROOT)
            for name in ("floor", "stack")
        },
        "ratio": throughput_ratio(floor_part, stack_part),
        "capped_at_max_rps": {"floor": floor_part.capped, "stack": stack_part.capped},
        "ratio_goal": RATIO_GOAL,
        "services_cpu_ms_per_request": stack_ms,
        "services_cpu_ms_per_request_sum": sum(stack_ms.values()) if stack_ms else None,
        "cpu_goal_ms": CPU_GOAL_MS,
        "floor": {
            "best_rps": floor_part.rps,
            "services_cpu_ms_per_request": floor_part.services_ms(),
            "steps": [_step_data(step) for step in floor_part.steps],
        },
        "stack": {
            "best_rps": stack_part.rps,
            "steps": [_step_data(step) for step in stack_part.steps],
        },
    }
