"""What each backend knows about a trace id, asked through its HTTP API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from threadline_native.verify.http import get_json, request

TRACE_NOT_FOUND = frozenset({404})


@dataclass(frozen=True)
class Endpoints:
    """Where the backends answer; the same ports in both modes (DESIGN §7)."""

    collector_http: str = "http://127.0.0.1:4318"
    tempo: str = "http://127.0.0.1:3200"
    jaeger: str = "http://127.0.0.1:16686"
    loki: str = "http://127.0.0.1:3100"
    prometheus: str = "http://127.0.0.1:9090"
    alertmanager: str = "http://127.0.0.1:9093"
    alert_recorder: str = "http://127.0.0.1:9098"


def tempo_services(endpoints: Endpoints, trace_id: str) -> set[str]:
    """service.name of every resource with spans in Tempo's copy of the trace (empty if absent)."""
    status, payload = request("GET", f"{endpoints.tempo}/api/v2/traces/{trace_id}")
    if status in TRACE_NOT_FOUND or not isinstance(payload, dict):
        return set()
    trace = payload.get("trace", payload)
    services = set()
    for resource_spans in trace.get("resourceSpans", trace.get("batches", [])):
        attributes = resource_spans.get("resource", {}).get("attributes", [])
        for attribute in attributes:
            if attribute.get("key") == "service.name":
                services.add(attribute["value"].get("stringValue", ""))
    return services


def jaeger_services(endpoints: Endpoints, trace_id: str) -> set[str]:
    """serviceName of every process with spans in Jaeger's copy of the trace (empty if absent)."""
    status, payload = request("GET", f"{endpoints.jaeger}/api/traces/{trace_id}")
    if status != 200 or not isinstance(payload, dict):
        return set()
    services = set()
    for trace in payload.get("data") or []:
        processes = trace.get("processes", {})
        used = {span.get("processID") for span in trace.get("spans", [])}
        services |= {processes[pid]["serviceName"] for pid in used if pid in processes}
    return services


def loki_lines(endpoints: Endpoints, service: str, trace_id: str, since: float) -> int:
    """How many log lines of a service carry this trace_id (structured metadata)."""
    query = f'{{service_name="{service}"}} | trace_id="{trace_id}"'
    payload = get_json(
        f"{endpoints.loki}/loki/api/v1/query_range",
        {
            "query": query,
            "start": str(int((since - 300) * 1e9)),
            "end": str(int((time.time() + 60) * 1e9)),
            "limit": "100",
        },
    )
    return sum(len(stream.get("values", [])) for stream in payload["data"]["result"])


def prometheus_query(endpoints: Endpoints, expr: str) -> list[dict[str, Any]]:
    """Result vector of an instant query."""
    payload = get_json(f"{endpoints.prometheus}/api/v1/query", {"query": expr})
    result: list[dict[str, Any]] = payload["data"]["result"]
    return result


def prometheus_exemplar_trace_ids(endpoints: Endpoints, expr: str, since: float) -> set[str]:
    """trace_id of every exemplar stored for the series a selector matches."""
    payload = get_json(
        f"{endpoints.prometheus}/api/v1/query_exemplars",
        {"query": expr, "start": str(since - 300), "end": str(time.time() + 60)},
    )
    trace_ids = set()
    for series in payload.get("data") or []:
        for exemplar in series.get("exemplars", []):
            labels = exemplar.get("labels", {})
            trace_id = labels.get("trace_id") or labels.get("traceID")
            if trace_id:
                trace_ids.add(trace_id)
    return trace_ids


def loki_query_has_data(endpoints: Endpoints, expr: str, window_seconds: int = 3600) -> bool:
    now = time.time()
    payload = get_json(
        f"{endpoints.loki}/loki/api/v1/query_range",
        {
            "query": expr,
            "start": str(int((now - window_seconds) * 1e9)),
            "end": str(int(now * 1e9)),
            "limit": "1",
        },
    )
    return bool(payload["data"]["result"])
