"""Ratios of paired runs: each arm against the baseline arm of the same round.

A ratio taken within a round (same neighbours, same minute) is steadier than a ratio of
medians, so the figure reported is the median of the per-round ratios, with their range.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

__all__ = ["paired_summary"]


def paired_summary(
    arm: Mapping[int, tuple[float, float]], baseline: Mapping[int, tuple[float, float]]
) -> dict[str, float]:
    """Figures of one arm against the baseline, both as {round: (requests/s, CPU µs/request)}.

    Throughput ratio = arm / baseline (higher is better); CPU ratio = baseline / arm, i.e. the
    throughput ratio on a dedicated core; "added" = per-request time or CPU over the baseline's.
    Only rounds both ran count.
    """
    rounds = [round_ for round_ in arm if round_ in baseline]
    if not rounds:
        raise ValueError("the arm and its baseline share no round")
    rps = {r: arm[r][0] for r in rounds}
    cpu = {r: arm[r][1] for r in rounds}
    ratios = [rps[r] / baseline[r][0] for r in rounds]
    return {
        "requests_per_second": round(statistics.median(rps.values()), 1),
        "ratio_to_bare": round(statistics.median(ratios), 3),
        "min_ratio": round(min(ratios), 3),
        "max_ratio": round(max(ratios), 3),
        "added_microseconds_per_request": round(
            statistics.median((1 / rps[r] - 1 / baseline[r][0]) * 1e6 for r in rounds), 1
        ),
        "cpu_microseconds_per_request": round(statistics.median(cpu.values()), 1),
        "added_cpu_microseconds_per_request": round(
            statistics.median(cpu[r] - baseline[r][1] for r in rounds), 1
        ),
        "cpu_ratio_to_bare": round(statistics.median(baseline[r][1] / cpu[r] for r in rounds), 3),
    }
