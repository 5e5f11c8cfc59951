"""The report of one drill run: reports/chaos/<drill>/<timestamp>/.

    report_md = write_report(run=run, out_dir=Path("reports/chaos"),
                             prometheus_url="http://127.0.0.1:9090",
                             jaeger_url="http://127.0.0.1:16686")

Writes report.md (hypothesis, verdict, timeline, recovery, steady state, alert timeline,
reconciliation counts, failed requests' traces linked to Jaeger), chart.png (request rate,
error ratio and p99 over the run from Prometheus range queries, fault window shaded) and
journal.json (Chaos Toolkit's journal, copied). A report is always written: what could not be
fetched (Prometheus down) is named in it instead.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from threadline_chaos.record import DrillRun
from threadline_chaos.report.chart import write_chart
from threadline_chaos.report.chart_data import fetch_chart_data, panels
from threadline_chaos.report.markdown import ReportFiles, render

REPORT_MD = "report.md"
CHART_PNG = "chart.png"
JOURNAL_JSON = "journal.json"
# Some time either side of the run, so the chart shows the steady state it left and came back to.
MARGIN = timedelta(seconds=30)


def report_dir(run: DrillRun, out_dir: Path) -> Path:
    """The run's directory: the one the runner made, else out_dir/<drill>/<UTC start time>."""
    if run.report_dir is not None:
        return run.report_dir
    return out_dir / run.drill / run.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_report(*, run: DrillRun, out_dir: Path, prometheus_url: str, jaeger_url: str) -> Path:
    """Write the run's report directory under out_dir; the path of its report.md."""
    directory = report_dir(run, out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    start = run.started_at - MARGIN
    end = (run.ended_at or datetime.now(UTC)) + MARGIN
    data, notes = fetch_chart_data(prometheus_url, start=start, end=end)
    chart = None
    if any(data.values()):
        write_chart(
            directory / CHART_PNG, data, start=start, end=end, fault_window=run.fault_window
        )
        chart = CHART_PNG
    files = ReportFiles(chart=chart, journal=_copy_journal(run, directory), chart_notes=notes)
    path = directory / REPORT_MD
    path.write_text(
        render(
            run,
            files=files,
            panels=panels(),
            jaeger_url=jaeger_url,
            prometheus_url=prometheus_url,
        )
    )
    return path


def _copy_journal(run: DrillRun, directory: Path) -> str | None:
    if run.journal_path is None or not run.journal_path.exists():
        return None
    target = directory / JOURNAL_JSON
    if run.journal_path.resolve() != target.resolve():
        shutil.copyfile(run.journal_path, target)
    return JOURNAL_JSON


__all__ = ["report_dir", "write_report"]
