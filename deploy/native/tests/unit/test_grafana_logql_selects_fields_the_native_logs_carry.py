"""Every LogQL query Grafana runs selects streams and filters on fields the services' logs carry.

Loki runs under compose only; natively the same OTLP records go to VictoriaLogs. A Loki panel or
a trace -> logs link that selects on a label the records do not carry, or filters on a field
they lack, finds nothing in either mode. Loki names OTLP fields with dots as underscores
(service.name -> service_name) and keeps trace_id and span_id as structured metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from threadline_native.config_keys import value_at
from threadline_native.grafana_refs import datasources, link_queries, panel_queries
from threadline_native.paths import find_project_root

ROOT = find_project_root(Path(__file__).parent)
COMPOSE_DIR = ROOT / "deploy" / "compose"
# Loki's default index labels (distributor.otlp_config.default_resource_attributes_as_index_labels
# in its configuration reference), used unless loki.yaml sets ignore_defaults.
LOKI_DEFAULT_INDEX_ATTRIBUTES = frozenset(
    {"service.name", "service.namespace", "service.instance.id", "deployment.environment"}
    | {"deployment.environment.name", "cloud.region", "cloud.availability_zone"}
    | {"k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name"}
    | {"container.name", "k8s.replicaset.name", "k8s.deployment.name", "k8s.statefulset.name"}
    | {"k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name"}
)

_GRAFANA_MACRO = re.compile(r"\$\{[^}]*\}")
_STRING = r'"(?:[^"\\]|\\.)*"|`[^`]*`'
_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_MATCHER = re.compile(rf"\s*({_NAME})\s*(=~|!~|!=|=)\s*(?:{_STRING})\s*(,|$)")
_LINE_FILTER = re.compile(rf"\s*(\|=|\|~|!=|!~)\s*(?:{_STRING})")
_LABEL_FILTER = re.compile(
    rf"\s*\|\s*({_NAME})\s*(=~|!~|!=|==|=|>=|<=|>|<)\s*(?:{_STRING}|[0-9.]+\w*)"
)


@dataclass(frozen=True)
class LogQuery:
    """What a log query needs of the records: stream selector labels and filtered fields."""

    selector: frozenset[str]
    filtered: frozenset[str]


def read_logql(query: str) -> LogQuery:
    """A log query made of a stream selector, line filters and label filters.

    Parsers (``| json``, ``| logfmt``) and formatting stages are refused: their fields come from
    the line, which this check cannot see.
    """
    query = _GRAFANA_MACRO.sub("x", query).strip()
    match = re.fullmatch(r"\{(.*?)\}(.*)", query, re.DOTALL)
    if not match:
        raise ValueError(f"no stream selector: {query!r}")
    selector, rest = match[1], match[2]
    labels, position = [], 0
    while position < len(selector):
        matcher = _MATCHER.match(selector, position)
        if not matcher:
            raise ValueError(f"unreadable stream selector: {{{selector}}}")
        labels.append(matcher[1])
        position = matcher.end()
    filtered, position = [], 0
    while rest[position:].strip():
        if stage := _LINE_FILTER.match(rest, position):
            position = stage.end()
        elif stage := _LABEL_FILTER.match(rest, position):
            filtered.append(stage[1])
            position = stage.end()
        else:
            raise ValueError(f"unsupported pipeline stage: {rest[position:].strip()!r}")
    return LogQuery(frozenset(labels), frozenset(filtered))


def loki_queries() -> list[tuple[str, str]]:
    """(where, query) of every panel query and link query Grafana sends to a Loki datasource."""
    kinds = {source["uid"]: source["type"] for source in datasources(COMPOSE_DIR)}
    queries = [
        (f"{q.dashboard} / {q.panel!r}", q.expr)
        for q in panel_queries(COMPOSE_DIR)
        if kinds[q.datasource_uid] == "loki"
    ]
    queries += [
        (f"datasource {link.datasource_uid} {link.link}", link.expr)
        for link in link_queries(COMPOSE_DIR)
        if kinds[link.target_uid] == "loki"
    ]
    return queries


def readable() -> list[tuple[str, LogQuery]]:
    """The queries the reader can check (the others fail their own test)."""
    result = []
    for where, query in loki_queries():
        try:
            result.append((where, read_logql(query)))
        except ValueError:
            continue
    return result


def loki_name(otlp_name: str) -> str:
    return otlp_name.replace(".", "_")


@pytest.fixture(scope="module")
def index_labels() -> frozenset[str]:
    """The labels Loki indexes OTLP streams by (the only ones a stream selector can use)."""
    loki = yaml.safe_load((COMPOSE_DIR / "loki" / "loki.yaml").read_text())
    resource = value_at(loki, "limits_config.otlp_config.resource_attributes")
    chosen = {
        attribute
        for rule in resource.get("attributes_config", [])
        if rule["action"] == "index_label"
        for attribute in rule["attributes"]
    }
    defaults = set() if resource.get("ignore_defaults") else LOKI_DEFAULT_INDEX_ATTRIBUTES
    return frozenset(loki_name(attribute) for attribute in chosen | defaults)


def test_grafana_sends_log_queries_from_panels_and_both_trace_links() -> None:
    wheres = [where for where, _ in loki_queries()]
    assert any(".json" in where for where in wheres)
    assert {"datasource tempo tracesToLogsV2", "datasource jaeger tracesToLogsV2"} <= set(wheres)


def test_every_log_query_is_a_selector_with_filters_this_check_can_read() -> None:
    failures = []
    for where, query in loki_queries():
        try:
            read_logql(query)
        except ValueError as error:
            failures.append(f"{where}: {error}")
    assert not failures, "\n".join(failures)


def test_stream_selectors_use_index_labels_made_of_attributes_the_services_send(
    index_labels: frozenset[str], service_resource_attributes: frozenset[str]
) -> None:
    sent = {loki_name(attribute) for attribute in service_resource_attributes}
    problems = []
    for where, query in readable():
        if missing := sorted(query.selector - (index_labels & sent)):
            problems.append(f"{where}: selects on {missing}, not an index label the records carry")
    assert not problems, "\n".join(problems)


def test_label_filters_name_fields_every_record_carries(
    service_resource_attributes: frozenset[str], log_record_fields: frozenset[str]
) -> None:
    carried = {loki_name(attribute) for attribute in service_resource_attributes}
    carried |= log_record_fields
    problems = []
    for where, query in readable():
        if missing := sorted(query.filtered - carried):
            problems.append(f"{where}: filters on {missing}, which the records do not carry")
    assert not problems, "\n".join(problems)


def test_trace_to_logs_links_filter_on_the_trace_id() -> None:
    links = [(where, query) for where, query in readable() if "tracesToLogsV2" in where]
    assert links
    for where, query in links:
        assert "trace_id" in query.filtered, where


# The reader itself.


def test_reader_finds_selector_labels_and_filtered_fields() -> None:
    query = '{service_name="${__span.tags["service.name"]}", x=~"a|b"} |= "err" | trace_id="1"'
    assert read_logql(query) == LogQuery(frozenset({"service_name", "x"}), frozenset({"trace_id"}))


@pytest.mark.parametrize(
    "query", ['service_name="user"', '{service_name="user"} | json', "{service_name=user}"]
)
def test_reader_refuses_what_it_cannot_check(query: str) -> None:
    with pytest.raises(ValueError, match=r"selector|stage"):
        read_logql(query)
