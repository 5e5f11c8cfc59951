"""The load benchmark's charts: latency by offered load, and the best step's Locust charts."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt

from threadline_benchmarks.load.steps import BenchSettings, Step

__all__ = ["draw_bench_charts"]


def draw_bench_charts(
    steps: list[Step], best: Step | None, chart_dir: Path, settings: BenchSettings
) -> list[Path]:
    measured = [step for step in steps if step.mixed is not None]
    measured.sort(key=lambda step: step.target_rps)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    offered = [step.target_rps for step in measured]
    axes.plot(offered, [step.mixed.p99_ms for step in measured if step.mixed], "o-", label="p99")
    axes.plot(offered, [step.mixed.p95_ms for step in measured if step.mixed], "o-", label="p95")
    axes.plot(offered, [step.mixed.p50_ms for step in measured if step.mixed], "o-", label="p50")
    axes.axhline(settings.p99_limit_ms, linestyle="--", color="tab:red", label="p99 limit")
    axes.set_xlabel("offered load, requests/s")
    axes.set_ylabel("ms")
    axes.set_title("mixed journey: latency by offered load")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    steps_chart = chart_dir / "steps.png"
    figure.savefig(steps_chart, dpi=100)
    plt.close(figure)
    charts = [steps_chart]
    if best is not None:
        for name in ("throughput.png", "latency.png", "errors.png"):
            source = best.out_dir / name
            if source.exists():
                charts.append(Path(shutil.copyfile(source, chart_dir / f"best-{name}")))
    return charts
