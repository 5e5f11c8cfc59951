"""One sample read straight from a process's admin port (/metrics), between Prometheus scrapes.

Prometheus scrapes every 5 s; a drill that times a breaker closing or a backlog draining needs
about a second. The gauges involved are kept current by the process itself (the outbox watch
reads the backlog every second), so reading the exposition directly gives that resolution.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

from threadline_chaos.admin_api import admin_token
from threadline_chaos.endpoints import ADMIN_PORTS

TIMEOUT_SECONDS = 3.0


class AdminMetricsError(Exception):
    """The admin port did not answer; the message says which and what to do."""


def admin_metrics_url(role: str) -> str:
    if role not in ADMIN_PORTS:
        raise AdminMetricsError(f"no admin port for {role!r}; known: {', '.join(ADMIN_PORTS)}")
    return f"http://127.0.0.1:{ADMIN_PORTS[role]}/metrics"


def sample_in(exposition: str, name: str, labels: Mapping[str, str]) -> float | None:
    """The value of the sample called name whose labels include labels; None when absent."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def read_exposition(role: str, *, url: str | None = None) -> str:
    """role's admin port /metrics as text, all samples of one moment (url overrides it)."""
    address = url or admin_metrics_url(role)
    token = admin_token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(address, headers=headers, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise AdminMetricsError(f"{address} did not answer ({error}); is the stack up?") from error
    return response.text


def read_sample(
    role: str, name: str, labels: Mapping[str, str] | None = None, *, url: str | None = None
) -> float | None:
    """The current value of one sample on role's admin port (url overrides the address)."""
    return sample_in(read_exposition(role, url=url), name, labels or {})
