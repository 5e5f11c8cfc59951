"""Metric links: exemplars lead to stored traces; span metrics and the service graph exist.

Exemplars resolve in Jaeger in both modes (it runs in both). The service graph natively is
Jaeger's dependencies (parent -> child service); under compose it is Tempo's metrics-generator
series `traces_service_graph_request_total`, which the dashboards draw.
"""

from __future__ import annotations

from threadline_native.verify import jaeger, prometheus
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.result import Result, eventually, guarded

# Jaeger computes dependencies from the traces it holds over this window.
DEPENDENCY_LOOKBACK_SECONDS = 3600.0


def exemplars_resolve(
    endpoints: Endpoints,
    name: str,
    *,
    selector: str,
    since: float,
    ours: set[str],
    timeout: float,
) -> Result:
    """Every exemplar on `selector` whose trace_id is one of ours is a trace Jaeger holds.

    At least one of ours must be among them: each bucket keeps its latest exemplar, so other
    traffic may have replaced some of ours, never all.
    """
    check = "exemplar -> trace in Jaeger"

    def run() -> Result:
        ids = eventually(
            lambda: prometheus.exemplar_trace_ids(endpoints, selector, since),
            lambda found: bool(found & ours),
            timeout,
        )
        found = sorted(ids & ours)
        if not found:
            detail = f"none of our {len(ours)} trace ids among {len(ids)} exemplars on {selector}"
            return Result.judged(check, name, False, detail)
        missing = [t for t in found if not jaeger.fetch_trace(endpoints, t)]
        detail = f"{len(found)} of ours on {selector}, " + (
            f"not in Jaeger: {', '.join(missing)}" if missing else "every one in Jaeger"
        )
        return Result.judged(check, name, not missing, detail)

    return guarded(check, name, run)


def series_exist(endpoints: Endpoints, check: str, name: str, expr: str, timeout: float) -> Result:
    def run() -> Result:
        result = eventually(lambda: prometheus.instant(endpoints, expr), bool, timeout)
        return Result.judged(check, name, bool(result), f"{len(result)} series for {expr}")

    return guarded(check, name, run)


def span_metrics(endpoints: Endpoints, service: str, timeout: float) -> Result:
    expr = f'traces_spanmetrics_calls_total{{service_name="{service}"}}'
    return series_exist(endpoints, "span-metric series", service, expr, timeout)


def service_graph_edge(
    endpoints: Endpoints, mode: Mode, client: str, server: str, timeout: float
) -> Result:
    """client -> server is an edge of the service graph this mode has."""
    subject = f"{client} -> {server}"
    if mode is Mode.COMPOSE:
        expr = f'traces_service_graph_request_total{{client="{client}",server="{server}"}}'
        return series_exist(endpoints, "service-graph edge (Tempo series)", subject, expr, timeout)
    check = "service-graph edge (Jaeger dependencies)"

    def run() -> Result:
        edges = eventually(
            lambda: jaeger.fetch_dependencies(endpoints, DEPENDENCY_LOOKBACK_SECONDS),
            lambda found: (client, server) in found,
            timeout,
        )
        calls = edges.get((client, server), 0)
        detail = f"{calls} calls in the last hour" if calls else f"edges: {sorted(edges)}"
        return Result.judged(check, subject, bool(calls), detail)

    return guarded(check, subject, run)
