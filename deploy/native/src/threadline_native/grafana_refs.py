"""Grafana provisioning as data: which datasource UIDs exist and which ones are referenced.

Used by the unit test (provisioning is self-consistent) and by `make verify` (every panel's query
returns data from the real backends), so both read the files the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GRAFANA_DIR = Path("grafana")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    datasource_uid: str
    expr: str


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
                queries.append(PanelQuery(name, panel["title"], uid, target.get("expr", "")))
    return queries
