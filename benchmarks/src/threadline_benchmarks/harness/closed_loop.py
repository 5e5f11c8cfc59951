"""A closed loop: N workers calling back to back for a while; throughput, percentiles, CPU."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from threadline_benchmarks.harness.processes import cpu_seconds

__all__ = ["CallFigures", "closed_loop", "percentile_ms"]


def percentile_ms(seconds: list[float], q: float) -> float:
    """The `q` quantile (0..1) of durations in seconds, in ms; 0 for none (nearest rank)."""
    ordered = sorted(seconds)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000 if ordered else 0.0


@dataclass
class CallFigures:
    name: str
    calls: int
    errors: int
    seconds: float
    latencies: list[float]
    # CPU time per call of the observed server processes (by name), over the measured window.
    cpu_us_per_call: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds

    def percentile(self, q: float) -> float:
        return percentile_ms(self.latencies, q)


async def closed_loop(
    name: str,
    call: Callable[[int], Awaitable[Any]],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    observed: dict[str, int] | None = None,
    errors_of: tuple[type[BaseException], ...] = (Exception,),
) -> CallFigures:
    """``concurrency`` workers calling back to back; only calls after the warm-up count.

    ``call`` gets a running number. ``observed`` names server processes (name -> pid) whose CPU
    time per measured call is reported: read from /proc at the start and the end of the
    measured window. A call raising one of ``errors_of`` counts as an error.
    """
    latencies: list[float] = []
    errors = 0
    counter = 0
    measure_from = time.perf_counter() + warmup
    stop_at = measure_from + seconds
    cpu_before: dict[str, float] = {}

    async def worker() -> None:
        nonlocal errors, counter
        while (now := time.perf_counter()) < stop_at:
            counter += 1
            try:
                await call(counter)
            except errors_of:
                if now >= measure_from:
                    errors += 1
                continue
            if now >= measure_from:
                latencies.append(time.perf_counter() - now)

    async def sample_at_window_start() -> None:
        await asyncio.sleep(max(measure_from - time.perf_counter(), 0))
        cpu_before.update({label: cpu_seconds(pid) for label, pid in (observed or {}).items()})

    await asyncio.gather(sample_at_window_start(), *(worker() for _ in range(concurrency)))
    calls = max(len(latencies) + errors, 1)
    cpu = {
        label: (cpu_seconds(pid) - cpu_before[label]) / calls * 1e6
        for label, pid in (observed or {}).items()
    }
    return CallFigures(name, len(latencies), errors, seconds, latencies, cpu)
