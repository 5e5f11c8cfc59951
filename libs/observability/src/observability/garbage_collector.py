"""The garbage collector: its pauses as a histogram, and a start-up heap it need not walk.

CPython's cyclic collector stops the thread that triggers it. Young collections take up to
about a millisecond, but a full one walks every tracked object in the process (a service's
modules, classes, settings and pools: tens of thousands; 80-150 ms in these services) and
lands on whichever request happens to be running. Under load they are a source of tail latency
that no span shows.

- `GcPauses` records every collection's pause in ``python_gc_pause_seconds{generation}``;
  prometheus-client's own ``python_gc_collections_total`` counts them.
- `freeze_startup_heap` collects once, then moves everything alive to the permanent generation
  (``gc.freeze``), so later full collections only walk what the process allocated since. Call
  it when start-up is done (`Telemetry.mark_started` does, unless ``OBS_GC_FREEZE=false``):
  objects frozen then are never collected, which is what start-up objects are for.
  docs/benchmarks/observability-notes.md has the measurements.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Final

from prometheus_client import CollectorRegistry, Histogram

__all__ = ["GC_PAUSE_BUCKETS", "GcPauses", "freeze_startup_heap"]

# From a young collection (~0.1 ms) to a full one on a large heap (tens of milliseconds).
GC_PAUSE_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)  # fmt: skip


class GcPauses:
    """Observes each collection's wall-clock pause, by generation, once `install`-ed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        histogram = Histogram(
            "python_gc_pause_seconds",
            "Time the cyclic garbage collector stopped the thread that triggered it.",
            ("generation",),
            buckets=GC_PAUSE_BUCKETS,
            registry=registry,
        )
        self._by_generation = tuple(histogram.labels(str(g)) for g in range(3))
        self._started = 0.0

    def install(self) -> None:
        """Start observing (a process-wide hook: install one per process)."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        """Stop observing."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        # Collections never overlap (the collector holds the GIL and refuses to re-enter), so
        # one start time is enough.
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._by_generation[info["generation"]].observe(time.perf_counter() - self._started)


def freeze_startup_heap() -> int:
    """Collect garbage, then exempt every object alive now from later collections.

    Returns how many objects are frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
