"""`make bench-stack`: time a warm native start of the stack and measure every component's memory.

Warm means every build and download is cached: the number is what a second `make up` costs.
The components named with --restart (default: the observability backends) are stopped first
(only those this project's pid files say we started), then the whole stack is brought up with
`ensure_up` and each component's time to healthy is taken. Memory is measured after a settle
period as the proportional set size (PSS) of each component's process tree, so PostgreSQL's
shared buffers are not counted once per backend process. Results go to stdout as Markdown and
to docs/benchmarks/stack.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

from threadline_native.component import Component
from threadline_native.stack import ensure_up, load_context, select, stop_components

OBSERVABILITY = (
    "victorialogs",
    "jaeger",
    "prometheus",
    "alert-recorder",
    "alertmanager",
    "otel-collector",
    "toxiproxy",
)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(_children(current))
    return pids


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mib(component: Component) -> float | None:
    """PSS of the component's process tree in MiB, or None when we did not start it."""
    pid = component.pid_file.live_pid()
    if pid is None:
        return None
    return sum(_pss_kib(p) for p in _tree(pid)) / 1024


def _timed_up(components: Sequence[Component]) -> tuple[dict[str, float], float]:
    began = time.monotonic()
    per_component: dict[str, float] = {}
    for component in components:
        start = time.monotonic()
        ensure_up([component], progress=False)
        per_component[component.name] = time.monotonic() - start
    return per_component, time.monotonic() - began


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--restart", nargs="*", default=list(OBSERVABILITY))
    parser.add_argument("--settle", type=float, default=30.0, help="seconds before measuring RAM")
    parser.add_argument("--output", type=Path, default=None)
    options = parser.parse_args(argv)
    context = load_context()
    everything = select(context)
    stopped = stop_components(select(context, options.restart))
    startup, total = _timed_up(everything)
    time.sleep(options.settle)
    memory = {c.name: memory_mib(c) for c in everything}
    measured = [value for value in memory.values() if value is not None]
    result = {
        "restarted": [c.name for c in stopped],
        "seconds_to_healthy": {k: round(v, 2) for k, v in startup.items()},
        "seconds_to_healthy_total": round(total, 2),
        "pss_mib": {k: None if v is None else round(v, 1) for k, v in memory.items()},
        "pss_mib_total_measured": round(sum(measured), 1),
        "machine": {"cpus": len(_cpu_lines()), "kernel": platform.release()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output = options.output or context.layout.root / "docs" / "benchmarks" / "stack.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"restarted: {', '.join(c.name for c in stopped) or 'nothing'}")
    print(f"whole stack healthy after {total:.1f}s (warm)\n")
    print("| component | s to healthy | PSS MiB |\n|---|---|---|")
    for component in everything:
        mib = memory[component.name]
        shown = "not ours" if mib is None else f"{mib:.0f}"
        print(f"| {component.name} | {startup[component.name]:.1f} | {shown} |")
    print(f"| **total** | **{total:.1f}** | **{sum(measured):.0f}** |")
    return 0


def _cpu_lines() -> list[str]:
    return [
        line
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("processor")
    ]


if __name__ == "__main__":
    raise SystemExit(main())
