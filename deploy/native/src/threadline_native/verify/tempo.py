"""Tempo's trace API (compose only: Tempo is AGPL and never runs natively)."""

from __future__ import annotations

from typing import Any

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError, request

TRACE_NOT_FOUND = 404


def services(endpoints: Endpoints, trace_id: str) -> set[str]:
    """service.name of every resource with spans in Tempo's copy of the trace (empty if absent)."""
    url = f"{endpoints.tempo}/api/v2/traces/{trace_id}"
    status, payload = request("GET", url)
    if status == TRACE_NOT_FOUND:
        return set()
    if status != 200 or not isinstance(payload, dict):
        raise HttpError(url, status, str(payload))
    return resource_services(payload)


def resource_services(payload: dict[str, Any]) -> set[str]:
    trace = payload.get("trace", payload)
    found = set()
    for resource_spans in trace.get("resourceSpans", trace.get("batches", [])):
        for attribute in resource_spans.get("resource", {}).get("attributes", []):
            if attribute.get("key") == "service.name":
                found.add(str(attribute["value"].get("stringValue", "")))
    return found
