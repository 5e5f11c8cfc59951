"""`make bench-compare`: the floor, then the full stack, with the same steps in one run.

Issue 19's first goal is a ratio measured in one run on one machine: the mixed journey's
highest throughput on the full stack (p99 < 250 ms, no errors, tracing 0.1) over the same
journey's on the bare frameworks. So this runs `make bench-floor`'s search and then `make
bench`'s with the same settings (start, climb, bisection, step time, users' pacing, sampling),
writes each part's full page under docs/benchmarks/compare/ and the comparison on
docs/benchmarks/compare.md (+ .json): the ratio, and the CPU each service spent per request
from its process's CPU counters.

The floor services take the services' ports (CPU is counted by port), so, as for `make
bench-floor`, the services must be down when it starts; the stack is started for the second
part (`stack up`) and stopped again afterwards when nothing of it answered at the start.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime

from threadline_benchmarks.harness.page import load_average, write_page
from threadline_benchmarks.load.compare_page import (
    Comparison,
    Part,
    comparison_data,
    render_comparison,
)
from threadline_benchmarks.load.floor import running_floor
from threadline_benchmarks.load.search import port_answers, search_and_write
from threadline_benchmarks.load.steps import STACK_PORTS, BenchSettings
from threadline_loadtests.cli import AUTO, resolve_otlp_endpoint

__all__ = ["run_compare", "stack_command"]

STACK_CLI = (sys.executable, "-m", "threadline_native.cli")


def stack_command(command: str) -> None:
    """`stack up` / `stack down` (native or compose, as `make up` would choose)."""
    print(f"bench-compare: stack {command}")
    subprocess.run([*STACK_CLI, command], check=True)


def run_compare(settings: BenchSettings) -> int:
    """Floor part, stack part, comparison page; 0 when both parts held a step."""
    parts = settings.doc.parent / settings.doc.stem
    floor_settings = replace(
        settings, doc=parts / "floor.md", out_dir=settings.out_dir / "floor", floor=True
    )
    stack_settings = replace(settings, doc=parts / "stack.md", out_dir=settings.out_dir / "stack")
    started = datetime.now(UTC)
    load_before = load_average()
    stack_was_down = not any(port_answers(port) for port in STACK_PORTS.values())
    with running_floor(floor_settings) as floor:
        floor_steps, floor_best = search_and_write(floor)
    stack_command("up")
    if not stack_settings.otlp_endpoint:
        # `auto` found no collector while the stack was down; the stack part has one now.
        stack_settings = replace(stack_settings, otlp_endpoint=resolve_otlp_endpoint(AUTO))
    try:
        stack_steps, stack_best = search_and_write(stack_settings)
    finally:
        if stack_was_down:
            stack_command("down")
    comparison = Comparison(
        settings=settings,
        floor=Part(floor_steps, floor_best),
        stack=Part(stack_steps, stack_best),
        started=started,
        load=(load_before, load_average()),
    )
    write_page(settings.doc, render_comparison(comparison), comparison_data(comparison))
    print(f"bench-compare: wrote {settings.doc}")
    if floor_best is None or stack_best is None:
        print("bench-compare: a part held no step; no ratio")
        return 1
    return 0
