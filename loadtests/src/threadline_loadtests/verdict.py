"""The verdict of a run as text: a table of every check, a sentence per breach, slow traces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from threadline_loadtests.cpu_window import LOAD_GENERATOR
from threadline_loadtests.slo import Check
from threadline_loadtests.summary import RunSummary
from threadline_loadtests.trace_lookup import TraceLookup

__all__ = ["TraceLinks", "render_slowest", "render_verdict"]

# Locust's own warning threshold for its CPU use.
GENERATOR_SATURATED_PERCENT = 90.0


@dataclass(frozen=True, slots=True)
class TraceLinks:
    """Where a trace id can be opened, in both modes: Jaeger (the trace store natively and under
    compose; its API always, its UI only under compose) and VictoriaLogs' UI for the trace's
    log lines. Under compose Grafana's Tempo source opens the same ids."""

    jaeger_url: str = "http://127.0.0.1:16686"
    victorialogs_url: str = "http://127.0.0.1:9428"

    def trace(self, trace_id: str) -> str:
        return f"{self.jaeger_url}/api/traces/{trace_id}"

    def trace_page(self, trace_id: str) -> str:
        return f"{self.jaeger_url}/trace/{trace_id}"

    def logs(self, trace_id: str) -> str:
        query = urlencode(
            {
                "query": f'trace_id:="{trace_id}"',
                "g0.range_input": "7d",
                "g0.relative_time": "last_7_days",
                "groupBy": "service.name",
                "displayFields": "_msg,service.name,severity_text,trace_id,span_id",
            }
        )
        return f"{self.victorialogs_url}/select/vmui/#/?{query}"


def _generator_cpu(summary: RunSummary) -> str:
    average, peak = summary.generator_cpu_percent_avg, summary.generator_cpu_percent_max
    if average is None or peak is None:
        return "Load generator CPU: not sampled (Locust samples it every 5 s)"
    saturated = peak >= GENERATOR_SATURATED_PERCENT
    per_request = summary.cpu_ms_per_request.get(LOAD_GENERATOR)
    return (
        f"Load generator CPU: {average:.0f}% on average, {peak:.0f}% at most"
        + (f", {per_request * 1000:.0f} us per request" if per_request is not None else "")
        + (" (saturated: its own queueing is in these latencies)" if saturated else "")
    )


def _protocol(request_type: str) -> str:
    # Locust's request type is the HTTP method for HTTP requests; the name already says it.
    return "gRPC" if request_type == "gRPC" else "HTTP"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def render_verdict(checks: list[Check], summary: RunSummary, *, source: str = "") -> str:
    """The figures per journey, every check with its objective, then PASS or FAIL with reasons."""
    lines = [
        f"Load run {summary.run_id}: {summary.duration_seconds:.0f} s measured, "
        f"peak {summary.peak_users} users at {summary.user_rps:g} req/s each, "
        f"trace sampling {summary.trace_sample_ratio:g}",
        _generator_cpu(summary),
        "",
    ]
    figures_rows = [
        [
            name,
            f"{figures.requests}",
            f"{figures.rps:.1f}",
            f"{figures.p50_ms:.0f}",
            f"{figures.p95_ms:.0f}",
            f"{figures.p99_ms:.0f}",
            f"{figures.max_ms:.0f}",
            f"{figures.failures} ({figures.error_rate * 100:.2f}%)",
        ]
        for name, figures in summary.journeys_in_order()
    ]
    lines += _table(
        ["journey", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "failures"],
        figures_rows,
    )
    lines.append("")
    check_rows = [
        [
            check.journey,
            check.metric,
            check.describe(check.observed) if check.observed == check.observed else "n/a",
            f"{check.comparison.value} {check.describe(check.objective)}",
            "ok" if check.passed else "BREACH",
        ]
        for check in checks
    ]
    lines += _table(["journey", "objective", "observed", "required", "result"], check_rows)
    lines.append("")
    breaches = [check for check in checks if not check.passed]
    where = f" ({source})" if source else ""
    if breaches:
        lines.append(f"VERDICT: FAIL: {len(breaches)} of {len(checks)} objectives breached{where}")
        lines += [f"  - {check.breach_message()}" for check in breaches]
    else:
        lines.append(f"VERDICT: PASS: all {len(checks)} objectives met{where}")
    return "\n".join(lines)


def render_slowest(
    summary: RunSummary,
    links: TraceLinks,
    *,
    limit: int = 3,
    in_store: Mapping[str, TraceLookup] | None = None,
) -> str:
    """The slowest requests of each name with their trace ids and where to open them."""
    lines = [
        "Slowest requests, by trace id (sampled traces are in Jaeger, and in Tempo under compose;",
        "every service's log lines for a trace are in VictoriaLogs)",
        "",
    ]
    for request in sorted(summary.requests, key=lambda item: -item.figures.max_ms):
        lines.append(f"{request.name}  [{_protocol(request.type)}]")
        for slow in request.slowest[:limit]:
            state = "sampled" if slow.sampled else "not sampled"
            failed = ", failed" if slow.failed else ""
            lines.append(f"  {slow.response_time_ms:8.1f} ms  {slow.trace_id}  ({state}{failed})")
        for slow in request.sampled_slowest[:1]:
            lines.append(f"  slowest sampled, {slow.response_time_ms:.1f} ms:")
            lines.append(f"    trace (Jaeger API): {links.trace(slow.trace_id)}")
            lines.append(f"    trace (Jaeger UI, compose): {links.trace_page(slow.trace_id)}")
            lines.append(f"    logs (VictoriaLogs UI): {links.logs(slow.trace_id)}")
            if in_store is not None and slow.trace_id in in_store:
                lookup = in_store[slow.trace_id]
                store = lookup.store or "the trace store"
                lines.append(
                    f"    in {store}, spans from: {', '.join(lookup.services)}"
                    if lookup.services
                    else f"    not in {store} (yet): are the services exporting to a collector?"
                )
    return "\n".join(lines)
