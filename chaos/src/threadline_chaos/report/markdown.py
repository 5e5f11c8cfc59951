"""report.md: what the drill claimed, what happened when, and the verdict with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from threadline_chaos.checks import MethodCheck
from threadline_chaos.record import DrillRun, Reconciliation, SteadyStateCheck
from threadline_chaos.report.alert_timeline import alert_timeline
from threadline_chaos.report.chart_data import Panel
from threadline_chaos.report.links import jaeger_trace_url, prometheus_graph_url

MAX_TRACE_LINKS = 100  # a drill that fails thousands of requests needs a sample, not a phone book


@dataclass(frozen=True)
class ReportFiles:
    """The other files of the report directory, by name (None: not written, with why)."""

    chart: str | None
    journal: str | None
    chart_notes: list[str] = field(default_factory=list)


def render(
    run: DrillRun,
    *,
    files: ReportFiles,
    panels: tuple[Panel, ...],
    jaeger_url: str,
    prometheus_url: str,
) -> str:
    """The whole report as Markdown."""
    sections = [
        _heading(run),
        _verdict(run),
        _timeline(run),
        _recovery(run),
        _steady_state(run),
        *[_method_check(check) for check in run.method_checks],
        _alerts(run),
        _reconciliation(run.reconciliation, required=run.reconciliation_required),
        _failed_requests(run, jaeger_url),
        _chart(run, files, panels, prometheus_url),
        _files(files),
    ]
    return "\n\n".join(sections) + "\n"


def _heading(run: DrillRun) -> str:
    status = run.status.value.upper() if run.status else "NO VERDICT"
    return (
        f"# Drill {run.drill}: {status}\n\n"
        f"**Hypothesis.** {run.hypothesis}\n\n"
        f"Stack: {run.mode.value}; run {_time(run.started_at)} to "
        f"{_time(run.ended_at) if run.ended_at else 'not ended'}."
    )


def _verdict(run: DrillRun) -> str:
    if not run.reasons:
        return "## Verdict\n\nEvery check held."
    return "## Verdict\n\n" + "\n".join(f"- {reason}" for reason in run.reasons)


def _timeline(run: DrillRun) -> str:
    moments: list[tuple[datetime, str]] = [(run.started_at, "drill started")]
    if run.fault_window is not None:
        moments.append((run.fault_window.start, "fault injected"))
        moments.append((run.fault_window.end, "fault rolled back"))
        if run.time_to_recover_s is not None:
            recovered = run.fault_window.end.timestamp() + run.time_to_recover_s
            moments.append(
                (
                    datetime.fromtimestamp(recovered, tz=run.started_at.tzinfo),
                    "steady state recovered",
                )
            )
    if run.aborted_because:
        moments.append((run.ended_at or run.started_at, f"aborted: {run.aborted_because}"))
    moments += [(a.received_at, f"alert {a.alertname} {a.status}") for a in run.alerts]
    if run.ended_at is not None:
        moments.append((run.ended_at, "drill ended"))
    rows = [
        f"| {_time(at)} | {(at - run.started_at).total_seconds():+.1f} | {what} |"
        for at, what in sorted(moments, key=lambda moment: moment[0])
    ]
    return "## Timeline\n\n| time (UTC) | s since start | event |\n|---|---:|---|\n" + "\n".join(
        rows
    )


def _recovery(run: DrillRun) -> str:
    if run.time_to_recover_s is None:
        measured = "not measured (the steady state held throughout, or never came back)"
    else:
        within = "within" if run.time_to_recover_s <= run.recovery_bound_s else "OVER"
        measured = f"{run.time_to_recover_s:.1f} s ({within} the bound)"
    fault = f"{run.fault_window.seconds:.1f} s" if run.fault_window else "none"
    return (
        "## Recovery\n\n"
        f"| fault window | time to recover | bound |\n|---:|---:|---:|\n"
        f"| {fault} | {measured} | {run.recovery_bound_s:.0f} s |"
    )


def _steady_state(run: DrillRun) -> str:
    rows = [
        _check_row(phase, check)
        for phase, checks in (
            ("before", run.steady_state_before),
            ("after", run.steady_state_after),
        )
        for check in checks
    ]
    if not rows:
        return "## Steady state\n\nNo steady-state probe was recorded."
    return (
        "## Steady state\n\n| phase | probe | value | tolerance | held |\n|---|---|---:|---|---|\n"
        + "\n".join(rows)
    )


def _check_row(phase: str, check: SteadyStateCheck) -> str:
    value = "no data" if check.value is None else f"{check.value:.4g}"
    held = "yes" if check.held else "NO"
    return f"| {phase} | {check.name} | {value} | {check.tolerance} | {held} |"


def _method_check(check: MethodCheck) -> str:
    verdict = "held" if check.held else "**did not hold**"
    rows = "\n".join(f"| {what} | {value} |" for what, value in check.observations)
    table = f"\n\n| observed | value |\n|---|---|\n{rows}" if rows else ""
    return f"## Check: {check.name}\n\n{verdict.capitalize()}: {check.summary}.{table}"


def _alerts(run: DrillRun) -> str:
    expected = [
        f"- {e.alertname}: "
        + (
            "must fire"
            + (
                f" within {e.fire_within_s:.0f} s of the fault"
                if e.fire_within_s is not None
                else ""
            )
            + (
                f", resolve within {e.resolve_within_s:.0f} s of its end"
                if e.resolve_within_s is not None
                else ""
            )
            if e.must_fire
            else "must stay silent"
        )
        for e in run.alert_expectations
    ]
    entries = alert_timeline(run.alerts, run.fault_window)
    rows = [
        f"| {_time(e.at)} | {'' if e.offset_s is None else f'{e.offset_s:+.0f}'} | {e.alertname} "
        f"| {e.status} | {e.labels} |"
        for e in entries
    ]
    text = "## Alerts\n\n" + (
        "Expected:\n" + "\n".join(expected) if expected else "No alert expected."
    )
    if not rows:
        return text + "\n\nThe alert recorder received no notification during the drill."
    return (
        text
        + "\n\n| received (UTC) | s since fault | alert | status | labels |\n"
        + "|---|---:|---|---|---|\n"
        + "\n".join(rows)
    )


def _reconciliation(result: Reconciliation | None, *, required: bool) -> str:
    if result is None:
        why = "not run" if required else "not needed by this drill"
        return f"## Reconciliation\n\n{why.capitalize()}."
    state = "consistent" if result.consistent else "INCONSISTENT"
    counts = [
        (
            "orders in the orders database (live)",
            f"{result.orders_in_database} ({result.live_orders_in_database})",
        ),
        ("orders with an order-created event on orders.v1", result.orders_on_topic),
        (
            "distinct events on orders.v1 (records redelivered)",
            f"{result.events_on_topic} ({result.redelivered_records_on_topic})",
        ),
        ("events in the user service's inbox", result.events_in_inbox),
        ("live orders counted in the user statistics", result.orders_in_user_stats),
        (
            "cents in the user statistics / in live orders",
            f"{result.cents_in_user_stats} / {result.live_cents_in_database}",
        ),
        ("outbox rows left unpublished", result.unpublished_outbox_rows),
        ("records dead-lettered", result.dead_lettered_records),
        ("waited for the pipeline to go quiet", f"{result.waited_s:.1f} s"),
    ]
    text = (
        f"## Reconciliation\n\nThe data is **{state}**.\n\n| count | value |\n|---|---:|\n"
        + "\n".join(f"| {name} | {value} |" for name, value in counts)
    )
    if result.problems:
        text += "\n\nProblems:\n" + "\n".join(f"- {problem}" for problem in result.problems)
    if result.in_flight:
        text += "\n\nStill in flight when the wait ended:\n" + "\n".join(
            f"- {item}" for item in result.in_flight
        )
    return text


def _failed_requests(run: DrillRun, jaeger_url: str) -> str:
    if not run.failed_requests and not run.failed_trace_ids:
        return "## Failed requests\n\nNo request failed during the drill."
    shown = run.failed_trace_ids[:MAX_TRACE_LINKS]
    links = [f"- [{trace_id}]({jaeger_trace_url(jaeger_url, trace_id)})" for trace_id in shown]
    more = len(run.failed_trace_ids) - len(shown)
    if more > 0:
        links.append(f"- ... and {more} more traces")
    return (
        f"## Failed requests\n\n{run.failed_requests} requests failed, in "
        f"{len(run.failed_trace_ids)} traces (each opens in Jaeger):\n\n" + "\n".join(links)
    )


def _chart(
    run: DrillRun, files: ReportFiles, panels: tuple[Panel, ...], prometheus_url: str
) -> str:
    text = "## Chart\n\n"
    if files.chart:
        text += f"![request rate, error ratio and p99; the fault window shaded]({files.chart})"
    else:
        text += "No chart was drawn."
    if files.chart_notes:
        text += "\n\nNot plotted:\n" + "\n".join(f"- {note}" for note in files.chart_notes)
    end = run.ended_at or run.started_at
    seconds = (end - run.started_at).total_seconds()
    links = [
        f"[{panel.title}, {label}]"
        f"({prometheus_graph_url(prometheus_url, expression, end=end, seconds=seconds)})"
        for panel in panels
        for label, expression in panel.queries.items()
    ]
    return text + "\n\nIn Prometheus: " + " · ".join(links)


def _files(files: ReportFiles) -> str:
    journal = (
        f"[{files.journal}]({files.journal})"
        if files.journal
        else "none (Chaos Toolkit wrote no journal)"
    )
    return f"## Files\n\n- Chaos Toolkit journal: {journal}"


def _time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.%f")[:-3]
