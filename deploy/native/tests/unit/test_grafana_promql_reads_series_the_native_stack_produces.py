"""Every PromQL query Grafana runs parses, and reads only metrics and labels that exist.

A dashboard panel or a trace -> metrics link whose query names a metric or a label nothing
produces shows "No data" and fails nothing. The queries come from the dashboards and the
datasources' links; what exists comes from the code and configs that produce it
(threadline_native.metric_catalogue). The only metrics allowed beyond the native stack's are
listed, with their reason, in grafana_refs.COMPOSE_ONLY_METRICS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import promql_parser
import pytest
import yaml
from promql_parser import AggregateExpr, BinaryExpr, Expr, VectorSelector

from threadline_native.grafana_refs import (
    COMPOSE_ONLY_METRICS,
    datasources,
    link_queries,
    panel_queries,
)
from threadline_native.metric_catalogue import Series, catalogue, tempo_service_graph_series
from threadline_native.paths import find_project_root

ROOT = find_project_root(Path(__file__).parent)
COMPOSE_DIR = ROOT / "deploy" / "compose"
# Grafana's interval macros; any duration parses the same.
_INTERVAL_MACRO = re.compile(r"\$__(rate_interval|interval|range)\b")
_LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class PromQuery:
    where: str
    expr: str
    legend: str = ""


def prometheus_queries() -> list[PromQuery]:
    """Every panel query and link query that Grafana sends to a Prometheus datasource."""
    kinds = {source["uid"]: source["type"] for source in datasources(COMPOSE_DIR)}
    queries = [
        PromQuery(f"{q.dashboard} / {q.panel!r}", q.expr, q.legend_format)
        for q in panel_queries(COMPOSE_DIR)
        if kinds[q.datasource_uid] == "prometheus"
    ]
    for link in link_queries(COMPOSE_DIR):
        if kinds[link.target_uid] == "prometheus":
            # $__tags becomes one matcher per tag mapping: span attribute -> this label.
            tags = ", ".join(f'{label}="x"' for _, label in link.tags)
            expr = link.expr.replace("$__tags", tags)
            queries.append(PromQuery(f"datasource {link.datasource_uid} {link.link}", expr))
    return [PromQuery(q.where, _INTERVAL_MACRO.sub("1m", q.expr), q.legend) for q in queries]


@pytest.fixture(scope="module")
def native(
    service_resource_attributes: frozenset[str], client_library_series: list[Series]
) -> dict[str, Series]:
    return catalogue(
        ROOT,
        resource_attributes=service_resource_attributes,
        client_library=client_library_series,
    )


@pytest.fixture(scope="module")
def under_compose() -> dict[str, Series]:
    """The series only compose's Tempo produces."""
    tempo = yaml.safe_load((COMPOSE_DIR / "tempo" / "tempo.yaml").read_text())
    return {series.name: series for series in tempo_service_graph_series(tempo)}


@pytest.fixture(scope="module")
def queryable(native: dict[str, Series], under_compose: dict[str, Series]) -> dict[str, Series]:
    """What a query may read: the native series, and the listed compose-only ones."""
    allowed = {name: under_compose[name] for name in COMPOSE_ONLY_METRICS if name in under_compose}
    return native | allowed


def parsed() -> list[tuple[PromQuery, Expr]]:
    """The queries that parse (the others fail test_every_prometheus_query_parses)."""
    result = []
    for query in prometheus_queries():
        try:
            result.append((query, promql_parser.parse(query.expr)))
        except ValueError:
            continue
    return result


def selectors(node: Expr) -> list[VectorSelector]:
    found: list[VectorSelector] = []
    promql_parser.walk(node, lambda n: found.append(n) if isinstance(n, VectorSelector) else None)
    return found


def labels_under(node: Expr, series: Mapping[str, Series]) -> set[str] | None:
    """The labels the selectors below ``node`` carry; None when one of them is unknown."""
    under = [series.get(selector.name or "") for selector in selectors(node)]
    if any(known is None for known in under):
        return None
    return {"__name__"} | {label for known in under if known for label in known.labels}


def label_problems(expr: Expr, series: Mapping[str, Series]) -> list[str]:
    """Labels matched, grouped or joined on that the series they apply to do not carry."""
    problems: list[str] = []

    def check(wanted: list[str], node: Expr, what: str) -> None:
        have = labels_under(node, series)
        if have is not None and (missing := sorted(set(wanted) - have)):
            problems.append(f"{what} {missing}: not on {sorted(have - {'__name__'})}")

    def visit(node: Any) -> None:
        if isinstance(node, VectorSelector):
            check([m.name for m in node.matchers.matchers], node, f"{node.name} matches")
        elif isinstance(node, AggregateExpr) and node.modifier:
            check(node.modifier.labels, node.expr, "aggregates by")
        elif isinstance(node, BinaryExpr) and node.modifier:
            matching = node.modifier.matching.labels if node.modifier.matching else []
            for side in (node.lhs, node.rhs):
                if selectors(side):
                    check(matching, side, "joins on")
            check(node.modifier.group_labels or [], node, "groups by")

    promql_parser.walk(expr, visit)
    return problems


def test_grafana_sends_prometheus_queries_from_dashboards_and_links() -> None:
    wheres = [query.where for query in prometheus_queries()]
    assert any("tracesToMetrics" in where for where in wheres)
    assert len(wheres) > 20


def test_every_prometheus_query_parses() -> None:
    failures = []
    for query in prometheus_queries():
        try:
            promql_parser.parse(query.expr)
        except ValueError as error:
            failures.append(f"{query.where}: {query.expr!r}: {error}")
    assert not failures, "\n".join(failures)


def test_every_metric_a_query_reads_is_produced_natively_or_listed_as_compose_only(
    native: dict[str, Series],
) -> None:
    unknown = [
        f"{query.where}: {selector.name}"
        for query, expr in parsed()
        for selector in selectors(expr)
        if selector.name not in native and selector.name not in COMPOSE_ONLY_METRICS
    ]
    assert not unknown, "metrics nothing in the native stack produces:\n" + "\n".join(unknown)


def test_every_label_a_query_uses_is_on_the_series_it_reads(queryable: dict[str, Series]) -> None:
    problems = [
        f"{query.where}: {problem}"
        for query, expr in parsed()
        for problem in label_problems(expr, queryable)
    ]
    assert not problems, "\n".join(problems)


def test_every_legend_names_a_label_of_its_series(queryable: dict[str, Series]) -> None:
    problems = []
    for query, expr in parsed():
        have = labels_under(expr, queryable)
        legend = set(_LEGEND_LABEL.findall(query.legend))
        if have is not None and (missing := legend - have):
            problems.append(f"{query.where}: legend {sorted(missing)} not on its series")
    assert not problems, "\n".join(problems)


def test_compose_only_metrics_come_from_compose_into_grafanas_prometheus(
    native: dict[str, Series], under_compose: dict[str, Series]
) -> None:
    tempo = yaml.safe_load((COMPOSE_DIR / "tempo" / "tempo.yaml").read_text())
    written_to = urlsplit(tempo["metrics_generator"]["storage"]["remote_write"][0]["url"]).netloc
    prometheus = next(s for s in datasources(COMPOSE_DIR) if s["type"] == "prometheus")
    assert written_to == urlsplit(prometheus["url"]).netloc
    used = {s.name for _, expr in parsed() for s in selectors(expr)}
    for name, reason in COMPOSE_ONLY_METRICS.items():
        assert reason.strip()
        assert name in under_compose, f"{name}: compose does not produce it either"
        assert name not in native, f"{name}: the native stack produces it now; drop the exception"
        assert name in used, f"{name}: no query reads it any more; drop the exception"


# The analysis itself catches what it exists to catch.


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum by (rout) (rate(http_server_request_duration_seconds_count[1m]))", "['rout']"),
        ('rate(http_server_request_duration_seconds_count{servce="user"}[1m])', "['servce']"),
        ("slo:error_budget:ratio / on(service, tier) slo:burn_rate:ratio_rate1h", "['tier']"),
    ],
)
def test_label_analysis_reports_labels_the_series_lack(
    expr: str, expected: str, queryable: dict[str, Series]
) -> None:
    problems = label_problems(promql_parser.parse(expr), queryable)
    assert any(expected in problem for problem in problems), problems


def test_catalogue_lacks_metrics_nothing_produces(native: dict[str, Series]) -> None:
    assert "http_requests_total" not in native
    assert "traces_service_graph_request_total" not in native
    assert {"up", "process_cpu_seconds_total", "traces_spanmetrics_calls_total"} <= set(native)
