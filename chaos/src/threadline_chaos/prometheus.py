"""Instant PromQL queries against the stack's Prometheus, bounded by a timeout."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

QUERY_TIMEOUT_SECONDS = 5.0


class PrometheusError(Exception):
    """Prometheus did not answer, or refused the query (the message says which)."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


def parse_vector(body: Any) -> list[Sample]:
    """The samples of an instant query's JSON answer (vector or scalar result)."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise PrometheusError(f"query failed: {error}")
    data = body["data"]
    if data["resultType"] == "scalar":
        return [Sample({}, float(data["result"][1]))]
    if data["resultType"] != "vector":
        raise PrometheusError(f"expected an instant vector, got a {data['resultType']}")
    return [Sample(dict(item["metric"]), float(item["value"][1])) for item in data["result"]]


def query(
    base_url: str, expression: str, *, timeout: float = QUERY_TIMEOUT_SECONDS
) -> list[Sample]:
    """Evaluate expression now; its samples (empty when nothing matches)."""
    try:
        response = httpx.get(
            f"{base_url}/api/v1/query",
            params={"query": expression},
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        raise PrometheusError(f"Prometheus at {base_url} did not answer: {error}") from error
    if response.status_code not in (200, 400, 422):
        raise PrometheusError(f"Prometheus answered {response.status_code}: {response.text[:200]}")
    return parse_vector(response.json())


def single_value(samples: list[Sample]) -> float | None:
    """The one sample's value; None when there is none or it is NaN (no traffic to judge)."""
    if not samples:
        return None
    if len(samples) > 1:
        raise PrometheusError(f"expected one series, got {len(samples)}: {samples[:3]}")
    value = samples[0].value
    return None if math.isnan(value) else value
