"""What the chart plots: request rate, error ratio and p99 per service, from Prometheus.

The error ratio is the availability SLI of the SLO rules (threadline_chaos.sli reads them) over
a short window; rate and p99 read the same RED series those rules are built on, so the chart
shows what the steady-state probes judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from threadline_chaos.report.prometheus_range import RangeQueryError, Series, query_range
from threadline_chaos.sli import sli_error_ratio_expr

WINDOW = "30s"  # short enough to show a fault of a few seconds, long enough to smooth scrapes
# The RED series each service's SLO rules are built on (deploy/compose/prometheus/rules).
_DURATION_SERIES = {
    "user": "http_server_request_duration_seconds",
    "order": "grpc_server_handling_seconds",
}
MAX_POINTS = 300


@dataclass(frozen=True)
class Panel:
    title: str  # with its unit
    queries: dict[str, str]  # line label -> PromQL


def panels() -> tuple[Panel, ...]:
    """Request rate, error ratio and p99 latency, one line per service."""
    return (
        Panel(
            "Request rate (requests/s)",
            {
                service: f"sum(rate({_series(service, '_count')}[{WINDOW}]))"
                for service in _DURATION_SERIES
            },
        ),
        Panel(
            "Error ratio (availability SLI)",
            {
                service: sli_error_ratio_expr(service, "availability", WINDOW)
                for service in _DURATION_SERIES
            },
        ),
        Panel(
            "p99 latency (s)",
            {
                service: (
                    f"histogram_quantile(0.99, sum by (le) "
                    f"(rate({_series(service, '_bucket')}[{WINDOW}])))"
                )
                for service in _DURATION_SERIES
            },
        ),
    )


# Panel title -> line label -> points.
ChartData = dict[str, dict[str, list[tuple[datetime, float]]]]


def fetch_chart_data(
    prometheus_url: str, *, start: datetime, end: datetime
) -> tuple[ChartData, list[str]]:
    """Every panel's lines over start..end, and a note for each query that could not run."""
    step_s = max(1.0, (end - start).total_seconds() / MAX_POINTS)
    data: ChartData = {}
    notes: list[str] = []
    for panel in panels():
        lines = data.setdefault(panel.title, {})
        for label, expression in panel.queries.items():
            try:
                series = query_range(
                    prometheus_url, expression, start=start, end=end, step_s=step_s
                )
            except RangeQueryError as error:
                notes.append(f"{panel.title} of {label}: {error}")
                continue
            lines[label] = merged(series)
    return data, notes


def merged(series: list[Series]) -> list[tuple[datetime, float]]:
    """One line from a query's series (each query sums to one; more are joined by time)."""
    return sorted(point for item in series for point in item.points)


def _series(service: str, suffix: str) -> str:
    return f'{_DURATION_SERIES[service]}{suffix}{{service="{service}"}}'
