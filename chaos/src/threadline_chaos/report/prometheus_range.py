"""Range queries against Prometheus: the values of one expression over the drill's time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from threadline_chaos.record import utc_from_epoch

TIMEOUT_SECONDS = 10.0


class RangeQueryError(Exception):
    """Prometheus did not answer the range query, or refused it (the message says which)."""


@dataclass(frozen=True)
class Series:
    """One series of a range query: its labels and its (time, value) points.

    NaN stays where the expression had no value (a p99 with no traffic): the chart breaks its
    line there instead of drawing one across the silence.
    """

    labels: dict[str, str]
    points: list[tuple[datetime, float]]


def parse_matrix(body: Any) -> list[Series]:
    """The series of a range query's JSON answer (`resultType: matrix`)."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise RangeQueryError(f"range query failed: {error}")
    data = body["data"]
    if data.get("resultType") != "matrix":
        raise RangeQueryError(f"expected a matrix, got a {data.get('resultType')}")
    return [
        Series(
            labels=dict(item["metric"]),
            points=[(utc_from_epoch(float(at)), float(value)) for at, value in item["values"]],
        )
        for item in data["result"]
    ]


def query_range(
    base_url: str, expression: str, *, start: datetime, end: datetime, step_s: float
) -> list[Series]:
    """Evaluate expression from start to end every step_s seconds."""
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/api/v1/query_range",
            params={
                "query": expression,
                "start": f"{start.timestamp():.3f}",
                "end": f"{end.timestamp():.3f}",
                "step": f"{step_s:g}",
            },
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise RangeQueryError(f"Prometheus at {base_url} did not answer: {error}") from error
    if response.status_code not in (200, 400, 422):
        raise RangeQueryError(f"Prometheus answered {response.status_code}: {response.text[:200]}")
    return parse_matrix(response.json())
