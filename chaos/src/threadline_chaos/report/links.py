"""Links from the report into the stack's UIs: a trace in Jaeger, a query in Prometheus."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode


def jaeger_trace_url(jaeger_url: str, trace_id: str) -> str:
    """Jaeger UI's page of one trace."""
    return f"{jaeger_url.rstrip('/')}/trace/{trace_id}"


def prometheus_graph_url(
    prometheus_url: str, expression: str, *, end: datetime, seconds: float
) -> str:
    """Prometheus's graph of expression over the `seconds` before end."""
    query = urlencode(
        {
            "g0.expr": expression,
            "g0.tab": "0",
            "g0.range_input": f"{max(1, round(seconds))}s",
            "g0.end_input": end.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    return f"{prometheus_url.rstrip('/')}/graph?{query}"
