"""Jaeger's query API: a trace by id, and the dependencies between services.

Natively Jaeger is the one trace store, and its dependencies (computed from the parent/child
references of the spans it holds) are the service graph: the collector's servicegraph connector
is not available at the pinned release. Parsing is separate from fetching so that it is tested
on payloads captured from a real Jaeger.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError, request

TRACE_NOT_FOUND = 404
# One trace as /api/traces/<id> gives it (data[0]): spans, processes, warnings.
Trace = dict[str, Any]


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    # The OTel span kind as Jaeger tags it: server, client, producer, consumer, internal.
    kind: str


def fetch_trace(endpoints: Endpoints, trace_id: str) -> Trace | None:
    """The trace (data[0] of /api/traces/<id>), or None while Jaeger does not have it."""
    url = f"{endpoints.jaeger}/api/traces/{trace_id}"
    status, payload = request("GET", url)
    if status == TRACE_NOT_FOUND:
        return None
    if status != 200:
        raise HttpError(url, status, str(payload))
    return first_trace(payload)


def first_trace(payload: Any) -> Trace | None:
    traces = payload.get("data") if isinstance(payload, dict) else None
    if not traces:
        return None
    trace: Trace = traces[0]
    return trace


def spans(trace: Trace) -> list[Span]:
    """Every span of a trace with its service (from its process) and kind (from its tags)."""
    processes = trace.get("processes", {})
    found = []
    for span in trace.get("spans", []):
        process = processes.get(span.get("processID"), {})
        tags = {tag.get("key"): tag.get("value") for tag in span.get("tags", [])}
        found.append(
            Span(
                service=str(process.get("serviceName", "")),
                name=str(span.get("operationName", "")),
                kind=str(tags.get("span.kind", "")),
            )
        )
    return found


def services(trace: Trace | None) -> set[str]:
    return {span.service for span in spans(trace)} if trace else set()


def fetch_dependencies(endpoints: Endpoints, lookback_seconds: float) -> dict[tuple[str, str], int]:
    """(parent, child) -> calls, over the last lookback_seconds, from /api/dependencies."""
    now_ms = int(time.time() * 1000)
    status, payload = request(
        "GET",
        f"{endpoints.jaeger}/api/dependencies",
        params={"endTs": str(now_ms), "lookback": str(int(lookback_seconds * 1000))},
    )
    if status != 200:
        raise HttpError(f"{endpoints.jaeger}/api/dependencies", status, str(payload))
    return dependency_edges(payload)


def dependency_edges(payload: Any) -> dict[tuple[str, str], int]:
    edges: dict[tuple[str, str], int] = {}
    for link in payload.get("data") or []:
        edge = (str(link.get("parent", "")), str(link.get("child", "")))
        edges[edge] = edges.get(edge, 0) + int(link.get("callCount", 0))
    return edges
