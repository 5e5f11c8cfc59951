"""The links a person opens for a journey: its trace, its log lines, its requests' metrics.

Under compose Jaeger and Prometheus serve their web UIs; the native builds have none (Jaeger's
module build carries no UI bundle, Prometheus is built without its assets), so natively the
trace and the query are their API URLs. VictoriaLogs serves its UI (vmui) in both modes; vmui
routes in the URL's hash, so the query goes after `#/?`. The link opens it on the trace's
records over the last 7 days (the retention; vmui's default window is 5 minutes), grouped by
service.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.journeys import Journey
from threadline_native.verify.pictures import shown
from threadline_native.verify.victorialogs import trace_query

VMUI_PATH = "/select/vmui/"
VMUI_WINDOW = "last_7_days"
VMUI_RANGE = "7d"


@dataclass(frozen=True)
class Link:
    label: str
    target: str


def jaeger_link(endpoints: Endpoints, mode: Mode, trace_id: str) -> Link:
    if mode is Mode.COMPOSE:
        return Link("trace (Jaeger UI)", f"{endpoints.jaeger}/trace/{trace_id}")
    return Link("trace (Jaeger API)", f"{endpoints.jaeger}/api/traces/{trace_id}")


def victorialogs_link(endpoints: Endpoints, trace_id: str) -> Link:
    # vmui shows only each record's message unless told which fields to show.
    params = {
        "query": trace_query(trace_id),
        "g0.range_input": VMUI_RANGE,
        "g0.relative_time": VMUI_WINDOW,
        "groupBy": "service.name",
        "displayFields": "_msg,service.name,severity_text,trace_id,span_id",
    }
    return Link(
        "logs (VictoriaLogs UI)", f"{endpoints.victorialogs}{VMUI_PATH}#/?{urlencode(params)}"
    )


def prometheus_link(endpoints: Endpoints, mode: Mode, expr: str) -> Link:
    if mode is Mode.COMPOSE:
        target = f"{endpoints.prometheus}/graph?g0.expr={quote(expr, safe='')}&g0.range_input=1h"
        return Link("metrics (Prometheus UI)", target)
    return Link(
        "metrics (Prometheus API)",
        f"{endpoints.prometheus}/api/v1/query?query={quote(expr, safe='')}",
    )


def journey_links(
    endpoints: Endpoints, mode: Mode, journey: Journey, picture: Path | None
) -> list[Link]:
    links = [jaeger_link(endpoints, mode, journey.trace_id)]
    if picture is not None:
        links.append(Link("waterfall (PNG)", shown(picture)))
    links.append(victorialogs_link(endpoints, journey.trace_id))
    links.append(prometheus_link(endpoints, mode, journey.red_query))
    return links
