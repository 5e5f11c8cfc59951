"""chart.png: one panel per measure (rate, error ratio, p99), the fault window shaded on each."""

from __future__ import annotations

import itertools
import math
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure  # a bare Figure needs no pyplot and no display

from threadline_chaos.record import TimeWindow
from threadline_chaos.report.chart_data import ChartData

FAULT_LABEL = "fault window"
FAULT_COLOUR = "tab:red"


def build_figure(
    data: ChartData, *, start: datetime, end: datetime, fault_window: TimeWindow | None
) -> Figure:
    """The figure: a panel per entry of data, a line per service, the fault shaded."""
    figure = Figure(figsize=(10, 2.6 * max(1, len(data))), layout="constrained")
    axes = figure.subplots(max(1, len(data)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (title, lines) in zip(axes, data.items(), strict=False):
        for label, points in lines.items():
            if points:
                times, values = zip(*with_gaps(points), strict=True)
                ax.plot(times, values, label=label, linewidth=1.2)
        if fault_window is not None:
            ax.axvspan(
                fault_window.start,
                fault_window.end,
                color=FAULT_COLOUR,
                alpha=0.15,
                label=FAULT_LABEL,
            )
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_xlim(start, end)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("time (UTC)")
    return figure


def with_gaps(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """The points with a NaN wherever samples are missing (the series was absent), so the line
    breaks there; a gap is more than twice the usual spacing."""
    if len(points) < 3:
        return points
    spacing = min(b[0] - a[0] for a, b in itertools.pairwise(points))
    broken = [points[0]]
    for previous, point in itertools.pairwise(points):
        if point[0] - previous[0] > 2 * spacing:
            broken.append((previous[0] + spacing, math.nan))
        broken.append(point)
    return broken


def write_chart(
    path: Path,
    data: ChartData,
    *,
    start: datetime,
    end: datetime,
    fault_window: TimeWindow | None,
) -> Path:
    """Draw the chart into path (PNG)."""
    build_figure(data, start=start, end=end, fault_window=fault_window).savefig(path, dpi=100)
    return path
