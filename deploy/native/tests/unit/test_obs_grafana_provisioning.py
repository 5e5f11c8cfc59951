"""Grafana provisioning is self-consistent: no link or panel points at a missing datasource."""

from __future__ import annotations

from pathlib import Path

from threadline_native.grafana_refs import dashboards, datasources, panel_queries, referenced_uids
from threadline_native.paths import find_project_root

COMPOSE_DIR = find_project_root(Path(__file__).parent) / "deploy" / "compose"
# Each kind of link Grafana follows, and the datasource types it can lead to.
LINK_TARGET_TYPES = {
    "derivedFields": {"tempo", "jaeger"},
    "exemplarTraceIdDestinations": {"tempo", "jaeger"},
    "tracesToLogsV2": {"loki"},
    "lokiSearch": {"loki"},
    "tracesToMetrics": {"prometheus"},
    "serviceMap": {"prometheus"},
}


def by_uid() -> dict[str, dict[str, object]]:
    return {source["uid"]: source for source in datasources(COMPOSE_DIR)}


def test_datasources_have_fixed_unique_uids() -> None:
    uids = [source["uid"] for source in datasources(COMPOSE_DIR)]
    assert len(uids) == len(set(uids))
    assert {"prometheus", "loki", "tempo", "jaeger", "alertmanager"} <= set(uids)


def test_every_uid_referenced_by_datasources_and_dashboards_exists() -> None:
    known = set(by_uid())
    references = list(referenced_uids(datasources(COMPOSE_DIR), "datasources.yaml"))
    for name, dashboard in dashboards(COMPOSE_DIR).items():
        references += list(referenced_uids(dashboard, name))
    assert references, "expected datasource references to check"
    dangling = [(uid, where) for uid, where in references if uid not in known]
    assert dangling == []


def test_signals_link_both_ways() -> None:
    sources = by_uid()
    loki_links = {f["datasourceUid"] for f in sources["loki"]["jsonData"]["derivedFields"]}  # type: ignore[index]
    assert loki_links == {"tempo", "jaeger"}
    tempo = sources["tempo"]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"  # type: ignore[index]
    assert tempo["tracesToMetrics"]["datasourceUid"] == "prometheus"  # type: ignore[index]
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"  # type: ignore[index]
    assert tempo["lokiSearch"]["datasourceUid"] == "loki"  # type: ignore[index]
    exemplar_links = sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]  # type: ignore[index]
    assert {"tempo", "jaeger"} == {link["datasourceUid"] for link in exemplar_links}
    assert sources["jaeger"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"  # type: ignore[index]


def test_every_panel_has_a_query_against_a_provisioned_datasource() -> None:
    known = set(by_uid())
    queries = panel_queries(COMPOSE_DIR)
    assert {q.dashboard for q in queries} == set(dashboards(COMPOSE_DIR))
    for query in queries:
        assert query.datasource_uid in known, query
        assert query.expr.strip(), query
    for name, dashboard in dashboards(COMPOSE_DIR).items():
        for panel in dashboard["panels"]:
            assert panel.get("targets"), f"{name}: panel {panel['title']!r} has no query"


def test_dashboard_uids_are_unique_and_fixed() -> None:
    uids = [dashboard["uid"] for dashboard in dashboards(COMPOSE_DIR).values()]
    assert len(uids) == len(set(uids))
    assert all(uid.startswith("threadline-") for uid in uids)


def test_every_link_leads_to_a_datasource_of_the_kind_it_expects() -> None:
    kinds = {uid: source["type"] for uid, source in by_uid().items()}
    links = list(referenced_uids(datasources(COMPOSE_DIR), "datasources.yaml"))
    followed = set()
    for uid, where in links:
        link = next((name for name in LINK_TARGET_TYPES if f".{name}" in where), None)
        assert link, f"{where}: a link of a kind this test does not know"
        followed.add(link)
        assert kinds.get(uid) in LINK_TARGET_TYPES[link], f"{where} -> {uid} ({kinds.get(uid)})"
    assert followed == set(LINK_TARGET_TYPES), "a kind of link disappeared from provisioning"


def test_every_panel_names_its_datasource_by_uid_and_type_alike() -> None:
    kinds = {uid: source["type"] for uid, source in by_uid().items()}
    for name, dashboard in dashboards(COMPOSE_DIR).items():
        for panel in dashboard["panels"]:
            for node in (panel, *panel.get("targets", [])):
                if reference := node.get("datasource"):
                    where = f"{name}: {panel['title']!r}"
                    assert reference.get("type") == kinds[reference["uid"]], where
