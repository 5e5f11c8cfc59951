"""Prometheus' HTTP API: instant queries, stored exemplars and the state of the rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import get_json


@dataclass(frozen=True)
class Rule:
    group: str
    kind: str  # "recording" or "alerting"
    name: str
    labels: dict[str, str]
    health: str
    last_error: str

    @property
    def selector(self) -> str:
        """The series a recording rule writes: its name and the labels it sets."""
        matchers = ",".join(f'{key}="{value}"' for key, value in sorted(self.labels.items()))
        return f"{self.name}{{{matchers}}}" if matchers else self.name


def instant(endpoints: Endpoints, expr: str) -> list[dict[str, Any]]:
    """Result vector of an instant query."""
    payload = get_json(f"{endpoints.prometheus}/api/v1/query", {"query": expr})
    result: list[dict[str, Any]] = payload["data"]["result"]
    return result


def exemplar_trace_ids(endpoints: Endpoints, selector: str, since: float) -> set[str]:
    """trace_id of every exemplar stored since `since` for the series a selector matches."""
    payload = get_json(
        f"{endpoints.prometheus}/api/v1/query_exemplars",
        {"query": selector, "start": str(since - 60), "end": str(time.time() + 60)},
    )
    return parse_exemplar_trace_ids(payload)


def parse_exemplar_trace_ids(payload: Any) -> set[str]:
    trace_ids = set()
    for series in payload.get("data") or []:
        for exemplar in series.get("exemplars", []):
            labels = exemplar.get("labels", {})
            trace_id = labels.get("trace_id") or labels.get("traceID")
            if trace_id:
                trace_ids.add(str(trace_id))
    return trace_ids


def rules(endpoints: Endpoints) -> list[Rule]:
    """Every recording and alerting rule Prometheus loaded, with its last evaluation's health."""
    return parse_rules(get_json(f"{endpoints.prometheus}/api/v1/rules"))


def parse_rules(payload: Any) -> list[Rule]:
    return [
        Rule(
            group=str(group.get("name", "")),
            kind=str(rule.get("type", "")),
            name=str(rule.get("name", "")),
            labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
            health=str(rule.get("health", "")),
            last_error=str(rule.get("lastError", "")),
        )
        for group in payload["data"]["groups"]
        for rule in group.get("rules", [])
    ]
