"""Grafana provisioning as data: which datasource UIDs exist and which ones are referenced.

Used by the unit tests (provisioning is self-consistent; every query names series and fields
the native stack produces) and by `make verify` (every panel's query returns data from the real
backends), so they all read the files the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GRAFANA_DIR = Path("grafana")

# Metrics a dashboard may query although the native stack never produces them, and why: the one
# place such an exception is written down, for the unit tests and `make verify` alike. The unit
# test holds each entry to it: compose does produce the metric, the native stack still does not.
COMPOSE_ONLY_METRICS: dict[str, str] = {
    "traces_service_graph_request_total": (
        "fed only by Tempo's metrics-generator (service-graphs processor) under compose; natively "
        "no Tempo runs and the collector has no servicegraph connector (Jaeger's dependencies "
        "API is the native service graph)"
    ),
}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    datasource_uid: str
    expr: str
    legend_format: str = ""


@dataclass(frozen=True)
class LinkQuery:
    """A query a datasource link runs in its target (``$$`` unescaped, Grafana macros left)."""

    datasource_uid: str
    link: str
    target_uid: str
    expr: str
    # tracesToMetrics: span attribute -> label name, what ``$__tags`` expands to.
    tags: tuple[tuple[str, str], ...] = ()


def datasources(compose_dir: Path) -> list[dict[str, Any]]:
    path = compose_dir / GRAFANA_DIR / "provisioning" / "datasources" / "datasources.yaml"
    loaded: list[dict[str, Any]] = yaml.safe_load(path.read_text())["datasources"]
    return loaded


def dashboards(compose_dir: Path) -> dict[str, dict[str, Any]]:
    folder = compose_dir / GRAFANA_DIR / "dashboards"
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def referenced_uids(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(uid, where) for every datasource reference in a provisioning document or dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if key == "datasourceUid" and isinstance(value, str):
                yield value, here
            elif key == "datasource" and isinstance(value, dict) and "uid" in value:
                yield str(value["uid"]), here
            else:
                yield from referenced_uids(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from referenced_uids(item, f"{where}[{index}]")


def panel_queries(compose_dir: Path) -> list[PanelQuery]:
    """Every query of every panel of every dashboard."""
    queries = []
    for name, dashboard in dashboards(compose_dir).items():
        for panel in dashboard.get("panels", []):
            for target in panel.get("targets", []):
                uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid", "")
                expr, legend = target.get("expr", ""), target.get("legendFormat", "")
                queries.append(PanelQuery(name, panel["title"], uid, expr, legend))
    return queries


def link_queries(compose_dir: Path) -> list[LinkQuery]:
    """The custom queries of the trace -> logs and trace -> metrics links of every datasource."""
    queries = []
    for source in datasources(compose_dir):
        data = source.get("jsonData", {})
        logs = data.get("tracesToLogsV2", {})
        if logs.get("customQuery"):
            queries.append(
                LinkQuery(
                    source["uid"], "tracesToLogsV2", logs["datasourceUid"], _unescape(logs["query"])
                )
            )
        metrics = data.get("tracesToMetrics", {})
        tags = tuple(
            (tag["key"], tag.get("value") or tag["key"]) for tag in metrics.get("tags", [])
        )
        queries += [
            LinkQuery(
                source["uid"],
                f"tracesToMetrics {query['name']!r}",
                metrics["datasourceUid"],
                _unescape(query["query"]),
                tags,
            )
            for query in metrics.get("queries", [])
        ]
    return queries


def _unescape(provisioned: str) -> str:
    # Provisioning files expand $VAR from the environment; $$ is how they write a literal $.
    return provisioned.replace("$$", "$")
