"""CPU per request: totals across a statistics reset, costs from two snapshots."""

from __future__ import annotations

import os
from pathlib import Path

from threadline_loadtests import cpu_cost
from threadline_loadtests.cpu_cost import CpuSnapshot, cpu_by_component, requests_sent


def test_counts_the_requests_of_the_whole_run_across_a_reset(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    rows = [("Aggregated", 0), ("GET /a", 90), ("Aggregated", 100), ("Aggregated", 250)]
    rows += [("Aggregated", 10), ("Aggregated", 400)]  # reset after spawning, then on
    history.write_text(
        "Timestamp,Name,Total Request Count\n"
        + "".join(f"{second},{name},{count}\n" for second, (name, count) in enumerate(rows))
    )

    assert requests_sent(history) == 250 + 400


def test_costs_are_cpu_milliseconds_per_request() -> None:
    before = CpuSnapshot({"user service": 10.0, "postgresql": 4.0, "restarted": 9.0})
    after = CpuSnapshot({"user service": 12.0, "postgresql": 4.5, "restarted": 1.0})

    costs = cpu_by_component(before, after, requests=1000)

    assert costs == {"user service": 2.0, "postgresql": 0.5}
    assert cpu_by_component(before, after, requests=0) == {}


def test_reads_a_live_process_cpu_time() -> None:
    sum(i * i for i in range(200_000))  # burn a little CPU of our own

    assert cpu_cost._cpu_seconds(os.getpid()) > 0
    assert cpu_cost._cpu_seconds(2**22 + 12345) == 0.0  # no such process
    assert set(cpu_cost.snapshot().seconds) == {*cpu_cost.BY_PORT, *cpu_cost.BY_NAME}
