"""The report of one drill run: reports/chaos/<drill>/<timestamp>/.

    report_md = write_report(run=run, out_dir=Path("reports/chaos"),
                             prometheus_url="http://127.0.0.1:9090",
                             jaeger_url="http://127.0.0.1:16686")

Writes report.md (hypothesis, verdict, timeline, recovery, alerts, reconciliation, failed
requests' traces linked to Jaeger), chart.png (request rate, error ratio and p99 over the run,
fault window shaded) and journal.json (Chaos Toolkit's journal, copied).
"""

from __future__ import annotations

from pathlib import Path

from threadline_chaos.record import DrillRun


def write_report(*, run: DrillRun, out_dir: Path, prometheus_url: str, jaeger_url: str) -> Path:
    """Write the run's report directory under out_dir; the path of its report.md."""
    raise NotImplementedError


__all__ = ["write_report"]
