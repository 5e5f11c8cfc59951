"""CPU time per request, by component: what a benchmark step cost, whoever else shared the box.

On a machine shared with other work, latency and throughput say as much about the neighbours
as about Threadline. CPU time spent by each component over a step, divided by the requests
the step sent, does not: it is what each request costs, and 1 / (sum of the costs) is what
the components could serve if they had the CPUs to themselves.

Components are found by the port they listen on (DESIGN §7) or, for PostgreSQL and Redis
whose work happens in forked or named processes, by process name. Linux only (/proc).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSnapshot", "cpu_by_component", "snapshot"]

# Component -> ports its processes listen on.
BY_PORT = {
    "user service": (8000,),
    "order service": (50051,),
    "kafka": (9092,),
    "observability backends": (4317, 3100, 3200, 16686, 9090, 3000),
}
# Component -> process names (/proc/<pid>/comm) all of whose processes count.
BY_NAME = {"postgresql": ("postgres",), "redis": ("redis-server",)}

_TICKS = os.sysconf("SC_CLK_TCK")
_PID = re.compile(r"pid=(\d+)")


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds (user + system) used so far, per component."""

    seconds: dict[str, float]


def _listener_pids(port: int) -> set[int]:
    try:
        out = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {int(pid) for pid in _PID.findall(out)}


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time plus that of its children it has reaped.

    PostgreSQL's backends come and go with pool connections: the time of one that exited
    during a step is in the postmaster's children's time, so the component's total never
    goes down (it did, and the step lost its PostgreSQL figure).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0  # gone in the meantime
    # Fields after the command name (which may contain spaces), 1-based: utime 14, stime 15,
    # cutime 16, cstime 17 (children waited for).
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / _TICKS


def _pids_named(names: tuple[str, ...]) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def snapshot() -> CpuSnapshot:
    seconds: dict[str, float] = {}
    for component, ports in BY_PORT.items():
        pids = set().union(*(_listener_pids(port) for port in ports))
        seconds[component] = sum(_cpu_seconds(pid) for pid in pids)
    for component, names in BY_NAME.items():
        seconds[component] = sum(_cpu_seconds(pid) for pid in _pids_named(names))
    return CpuSnapshot(seconds)


def cpu_by_component(before: CpuSnapshot, after: CpuSnapshot, *, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request for each component between two snapshots.

    A component that restarted in between (its counter went down) is left out.
    """
    if requests <= 0:
        return {}
    costs = {}
    for component, used in after.seconds.items():
        delta = used - before.seconds.get(component, 0.0)
        if delta >= 0:
            costs[component] = delta * 1000 / requests
    return costs
