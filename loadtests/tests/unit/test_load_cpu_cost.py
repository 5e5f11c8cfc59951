"""CPU per request: costs from two snapshots of the stack's components."""

from __future__ import annotations

import os
import subprocess
import sys

from threadline_loadtests import cpu_cost
from threadline_loadtests.cpu_cost import CpuSnapshot, cpu_by_component


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


def test_a_reaped_childs_cpu_time_stays_with_its_parent() -> None:
    before = cpu_cost._cpu_seconds(os.getpid())
    # A child that burns CPU and exits: its time moves to our children's time once reaped.
    child = subprocess.run(
        [sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True
    )
    assert child.returncode == 0

    assert cpu_cost._cpu_seconds(os.getpid()) - before >= 0.05
