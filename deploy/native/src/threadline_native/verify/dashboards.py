"""Dashboard links: every datasource UID resolves and every panel's query returns data.

Natively Prometheus is the one datasource that runs: every PromQL panel runs against it,
except those on series only the compose stack produces, and LogQL panels (Loki). Those are
reported as "compose only" with the reason, never as passes.
"""

from __future__ import annotations

import re
from pathlib import Path

from threadline_native.grafana_refs import (
    PanelQuery,
    dashboards,
    datasources,
    panel_queries,
    referenced_uids,
)
from threadline_native.verify import loki, prometheus
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.result import Result, State, eventually, guarded

CHECK = "panel returns data"
# Metric-name prefixes of series that only exist under compose, and why.
COMPOSE_ONLY_SERIES = {
    "traces_service_graph_": (
        "service-graph series come from Tempo's metrics-generator (compose only); "
        "natively the graph is Jaeger's /api/dependencies"
    ),
}
LOKI_ONLY = "LogQL runs on Loki (compose only); natively the logs are in VictoriaLogs"


def datasource_uids(compose_dir: Path) -> Result:
    """Every datasource UID referenced by provisioning and dashboards is provisioned."""
    known = {source["uid"] for source in datasources(compose_dir)}
    references = list(referenced_uids(datasources(compose_dir), "datasources.yaml"))
    for dashboard_name, dashboard in dashboards(compose_dir).items():
        references += list(referenced_uids(dashboard, dashboard_name))
    dangling = sorted({f"{uid} ({where})" for uid, where in references if uid not in known})
    detail = f"{len(references)} references to {len(known)} datasources"
    return Result.judged(
        "datasource UIDs resolve",
        "Grafana provisioning",
        not dangling,
        detail + (f"; dangling: {', '.join(dangling)}" if dangling else ""),
    )


def compose_only_reason(query: PanelQuery) -> str | None:
    """Why a panel's query cannot run natively, or None when it can."""
    if query.datasource_uid == "loki":
        return LOKI_ONLY
    for prefix, reason in COMPOSE_ONLY_SERIES.items():
        if re.search(rf"\b{re.escape(prefix)}\w*", query.expr):
            return reason
    return None


def _panel(endpoints: Endpoints, mode: Mode, query: PanelQuery, timeout: float) -> Result:
    subject = f"{query.dashboard}: {query.panel}"
    reason = compose_only_reason(query) if mode is Mode.NATIVE else None
    if reason:
        return Result(CHECK, subject, State.COMPOSE_ONLY, reason)

    def run() -> Result:
        # Right after a start a rate() needs a second scrape of the journeys' new series (5 s
        # apart), so a panel is given the same time as every other link to show data.
        if query.datasource_uid == "prometheus":
            has_data = bool(
                eventually(lambda: prometheus.instant(endpoints, query.expr), bool, timeout)
            )
        elif query.datasource_uid == "loki":
            has_data = eventually(lambda: loki.query_has_data(endpoints, query.expr), bool, timeout)
        else:
            return Result.judged(CHECK, subject, False, f"no check for {query.datasource_uid}")
        return Result.judged(CHECK, subject, has_data, "" if has_data else query.expr)

    return guarded(CHECK, subject, run)


def panels(endpoints: Endpoints, mode: Mode, compose_dir: Path, timeout: float) -> list[Result]:
    """One row per query of every panel of every dashboard, each given `timeout` for data."""
    return [_panel(endpoints, mode, query, timeout) for query in panel_queries(compose_dir)]
