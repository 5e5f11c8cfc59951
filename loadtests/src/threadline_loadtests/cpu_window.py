"""CPU time over the measured stretch of a run, per request: the generator's and the stack's.

A run is measured from the moment its statistics are last reset (every user runs) to the
moment it starts stopping. CPU used outside that stretch (starting Python and Locust,
spawning users, writing reports) is not what a request costs, and spread over the requests
of a short step it would dwarf what they do cost. So the Locust process marks the stretch
itself: its own CPU time (every thread: gevent's pool, grpcio's) and, for the benchmark, a
snapshot of each stack component's (cpu_cost) at both ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from threadline_loadtests.cpu_cost import CpuSnapshot, cpu_by_component, snapshot

__all__ = ["LOAD_GENERATOR", "CpuWindow"]

# The load generator's own share, kept apart from the system's components.
LOAD_GENERATOR = "load generator (Locust)"


@dataclass
class CpuWindow:
    """Open it when measuring starts, close it when it ends; then CPU ms per request."""

    # Snapshot the stack's components too (the benchmark): a few `ss` calls at each end.
    with_components: bool = False
    process_time: Callable[[], float] = time.process_time
    take_snapshot: Callable[[], CpuSnapshot] = snapshot
    _opened_at: float | None = None
    _components_before: CpuSnapshot | None = None
    ms_per_request: dict[str, float] = field(default_factory=dict)

    def open(self) -> None:
        """Start (or restart) the window now."""
        self.ms_per_request = {}
        # The components first: the snapshot's own CPU is then outside the generator's window.
        self._components_before = self.take_snapshot() if self.with_components else None
        self._opened_at = self.process_time()

    def close(self, *, requests: int) -> None:
        """End the window; `requests` is how many the generator sent within it."""
        if self._opened_at is None or requests <= 0:
            return
        generator_seconds = self.process_time() - self._opened_at
        costs = {LOAD_GENERATOR: generator_seconds * 1000 / requests}
        if self._components_before is not None:
            costs |= cpu_by_component(
                self._components_before, self.take_snapshot(), requests=requests
            )
        self.ms_per_request = costs
        self._opened_at = None
