"""Loki's query API (compose only: Loki is AGPL and never runs natively)."""

from __future__ import annotations

import time

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import get_json


def trace_lines(endpoints: Endpoints, service: str, trace_id: str, since: float) -> int:
    """How many log lines of a service carry this trace_id (structured metadata)."""
    return _count(
        endpoints,
        f'{{service_name="{service}"}} | trace_id="{trace_id}"',
        start=since - 300,
        limit=100,
    )


def query_has_data(endpoints: Endpoints, expr: str, window_seconds: int = 3600) -> bool:
    """A dashboard's LogQL query returns at least one line over the last window_seconds."""
    return _count(endpoints, expr, start=time.time() - window_seconds, limit=1) > 0


def _count(endpoints: Endpoints, expr: str, *, start: float, limit: int) -> int:
    payload = get_json(
        f"{endpoints.loki}/loki/api/v1/query_range",
        {
            "query": expr,
            "start": str(int(start * 1e9)),
            "end": str(int((time.time() + 60) * 1e9)),
            "limit": str(limit),
        },
    )
    return sum(len(stream.get("values", [])) for stream in payload["data"]["result"])
