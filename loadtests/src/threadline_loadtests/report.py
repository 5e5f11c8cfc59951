"""After a run: charts, the verdict against the objectives and the slowest traces, on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threadline_loadtests.charts import draw_charts, read_history
from threadline_loadtests.journeys import MIXED
from threadline_loadtests.runner import HISTORY_CSV, SUMMARY_JSON
from threadline_loadtests.slo import Check, Objectives, evaluate
from threadline_loadtests.summary import RunSummary
from threadline_loadtests.trace_lookup import find_traces
from threadline_loadtests.verdict import TraceLinks, render_slowest, render_verdict

__all__ = ["Report", "RunFailedError", "report_run"]

VERDICT_FILE = "verdict.txt"


class RunFailedError(RuntimeError):
    """The run produced no figures to judge (Locust failed before or while running)."""


@dataclass(frozen=True, slots=True)
class Report:
    summary: RunSummary
    checks: list[Check]
    text: str
    charts: list[Path]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def report_run(
    out_dir: Path,
    objectives: Objectives,
    *,
    links: TraceLinks | None = None,
    look_up_traces: bool = False,
) -> Report:
    """Judge the run in `out_dir`, draw its charts and write `verdict.txt` there.

    `look_up_traces`: ask Jaeger (when it answers) for the slowest sampled trace of each
    request name and say which services' spans it holds.
    """
    summary_path = out_dir / SUMMARY_JSON
    if not summary_path.exists():
        raise RunFailedError(
            f"no {SUMMARY_JSON} in {out_dir}: Locust did not finish the run (see its output above)"
        )
    summary = RunSummary.read(summary_path)
    checks = evaluate(objectives, summary)
    mixed = next((item for item in objectives.journeys if item.journey == MIXED), None)
    history = out_dir / HISTORY_CSV
    charts = (
        draw_charts(
            read_history(history),
            out_dir,
            title=f"load run {summary.run_id}",
            p95_objective_ms=mixed.p95_ms if mixed else None,
            p99_objective_ms=mixed.p99_ms if mixed else None,
        )
        if history.exists()
        else []
    )
    links = links or TraceLinks()
    in_store = None
    if look_up_traces:
        sampled = [
            req.sampled_slowest[0].trace_id for req in summary.requests if req.sampled_slowest
        ]
        lookups = find_traces(links.jaeger_url, sampled)
        in_store = {lookup.trace_id: lookup for lookup in lookups} if lookups else None
    text = "\n\n".join(
        [
            render_slowest(summary, links, in_store=in_store),
            render_verdict(checks, summary, source=objectives.source),
        ]
    )
    (out_dir / VERDICT_FILE).write_text(text + "\n")
    return Report(summary=summary, checks=checks, text=text, charts=charts)
