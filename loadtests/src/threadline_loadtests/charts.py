"""PNG charts of a run from Locust's stats history CSV (`--csv-full-history`).

Locust writes a row about every second per request name plus an `Aggregated` row. Throughput
and failures per second come from the differences of the running totals between rows (its
own Requests/s column is a 10-second moving average, which smears a spike); with full history
the percentiles are the current ones (a sliding window of recent requests), which is what a
latency-over-time chart needs.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

mpl.use("Agg")  # files only: no display on a CI box or under `make load`

import matplotlib.pyplot as plt

__all__ = ["History", "Series", "draw_charts", "read_history"]

AGGREGATED = "Aggregated"


@dataclass
class Series:
    seconds: list[float] = field(default_factory=list)
    users: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    failures_per_second: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p95_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


@dataclass
class History:
    """Per request name (`type name`) and `Aggregated`, the values over the run's seconds."""

    series: dict[str, Series]

    @property
    def aggregated(self) -> Series:
        return self.series.get(AGGREGATED, Series())


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan  # "N/A" before the first response


def read_history(path: Path) -> History:
    series: dict[str, Series] = defaultdict(Series)
    # Per series: (timestamp, total requests, total failures) of its previous row.
    previous: dict[str, tuple[float, float, float]] = {}
    start: float | None = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            timestamp = float(row["Timestamp"])
            start = timestamp if start is None else start
            key = row["Name"] if row["Name"] == AGGREGATED else f"{row['Type']} {row['Name']}"
            requests = _number(row["Total Request Count"])
            failures = _number(row["Total Failure Count"])
            last_time, last_requests, last_failures = previous.get(key, (start, 0.0, 0.0))
            previous[key] = (timestamp, requests, failures)
            elapsed = timestamp - last_time
            if elapsed <= 0:
                continue  # the first row, or two rows within the same second
            entry = series[key]
            entry.seconds.append(timestamp - start)
            entry.users.append(_number(row["User Count"]))
            # A reset of the statistics (after spawning) makes the totals go back: no rate.
            entry.rps.append(max(0.0, requests - last_requests) / elapsed)
            entry.failures_per_second.append(max(0.0, failures - last_failures) / elapsed)
            entry.p50_ms.append(_number(row["50%"]))
            entry.p95_ms.append(_number(row["95%"]))
            entry.p99_ms.append(_number(row["99%"]))
    return History(dict(series))


def draw_charts(
    history: History,
    directory: Path,
    *,
    title: str,
    p95_objective_ms: float | None = None,
    p99_objective_ms: float | None = None,
) -> list[Path]:
    """throughput.png, latency.png and errors.png in `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    total = history.aggregated
    paths = []

    figure, axes = plt.subplots(figsize=(10, 4.5))
    axes.plot(total.seconds, total.rps, label="requests/s", color="tab:blue")
    axes.plot(total.seconds, total.failures_per_second, label="failures/s", color="tab:red")
    axes.set_xlabel("seconds")
    axes.set_ylabel("per second")
    users_axes = axes.twinx()
    users_axes.plot(total.seconds, total.users, label="users", color="tab:gray", linestyle=":")
    users_axes.set_ylabel("users")
    handles = axes.get_legend_handles_labels()
    more = users_axes.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    axes.set_title(f"{title}: throughput")
    axes.grid(alpha=0.3)
    paths.append(_save(figure, directory / "throughput.png"))

    figure, axes = plt.subplots(figsize=(10, 4.5))
    axes.plot(total.seconds, total.p50_ms, label="p50")
    axes.plot(total.seconds, total.p95_ms, label="p95")
    axes.plot(total.seconds, total.p99_ms, label="p99")
    for objective, label in (
        (p95_objective_ms, "p95 objective"),
        (p99_objective_ms, "p99 objective"),
    ):
        if objective is not None:
            axes.axhline(objective, linestyle="--", linewidth=1, color="tab:red", alpha=0.6)
            axes.annotate(label, (0, objective), textcoords="offset points", xytext=(4, 3))
    axes.set_xlabel("seconds")
    axes.set_ylabel("ms (recent requests)")
    axes.set_title(f"{title}: latency percentiles, all requests")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    paths.append(_save(figure, directory / "latency.png"))

    figure, axes = plt.subplots(figsize=(10, 4.5))
    failing = {
        name: series
        for name, series in sorted(history.series.items())
        if name != AGGREGATED and any(value > 0 for value in series.failures_per_second)
    }
    for name, series in failing.items():
        axes.plot(series.seconds, series.failures_per_second, label=name)
    if failing:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.plot(total.seconds, [0.0] * len(total.seconds), color="tab:green")
        axes.text(0.5, 0.5, "no failures", transform=axes.transAxes, ha="center", fontsize=14)
    axes.set_xlabel("seconds")
    axes.set_ylabel("failures/s")
    axes.set_title(f"{title}: errors by request")
    axes.grid(alpha=0.3)
    paths.append(_save(figure, directory / "errors.png"))
    return paths


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
