"""`make verify` reads the backends' answers right: payloads captured from the native stack.

verify_payloads/ holds real answers of the running native stack (Jaeger 2.12, VictoriaLogs
1.52.2, Prometheus 3.15) to the requests `make verify` makes, for a CreateOrder journey and a
registration refused on purpose (NUL in full_name, which the user service answered with 500 at
capture time). Two edits, both for paths of the capturing machine: the rule groups' `file` is
the repository path, and the untraced records' `exception.stacktrace` was dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from threadline_native.grafana_refs import PanelQuery
from threadline_native.paths import Layout
from threadline_native.verify import jaeger, prometheus, victorialogs
from threadline_native.verify.dashboards import compose_only_reason
from threadline_native.verify.endpoints import Endpoints, Mode, recorded_mode
from threadline_native.verify.journeys import Journey
from threadline_native.verify.links import journey_links, victorialogs_link
from threadline_native.verify.pictures import picture_path, slug
from threadline_native.verify.traces import kafka_hop_spans

PAYLOADS = Path(__file__).parent / "verify_payloads"
ORDER_TRACE = "c25c2e187fcbee8010d991b346013f07"
REFUSED_TRACE = "69f2aa8e4516ed52b7e89c1c43917f4e"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def records(name: str) -> list[dict[str, Any]]:
    return victorialogs.parse_lines((PAYLOADS / name).read_text().splitlines())


def test_a_create_order_trace_holds_both_services_and_the_kafka_hop() -> None:
    trace = jaeger.first_trace(payload("jaeger_trace_create_order.json"))
    assert trace is not None
    assert trace["traceID"] == ORDER_TRACE
    assert jaeger.services(trace) == {"order", "user"}
    producers, consumers = kafka_hop_spans(trace)
    assert [(s.service, s.name) for s in producers] == [("order", "send orders.v1")]
    assert [(s.service, s.name) for s in consumers] == [("user", "process orders.v1")]


def test_span_kinds_come_from_the_span_kind_tag() -> None:
    trace = jaeger.first_trace(payload("jaeger_trace_create_order.json"))
    assert trace is not None
    kinds = {(s.service, s.name): s.kind for s in jaeger.spans(trace)}
    assert kinds[("order", "order.v1.OrderService/CreateOrder")] == "server"
    assert kinds[("user", "GET /v1/users/{user_id}")] == "server"


def test_a_trace_jaeger_does_not_hold_is_none_and_has_no_services() -> None:
    answer = payload("jaeger_trace_not_found.json")
    assert answer["errors"][0]["code"] == jaeger.TRACE_NOT_FOUND
    assert jaeger.first_trace(answer) is None
    assert jaeger.services(None) == set()


def test_dependencies_are_parent_child_edges_with_their_calls() -> None:
    edges = jaeger.dependency_edges(payload("jaeger_dependencies.json"))
    assert edges[("order", "user")] > 0
    assert edges[("verify-order", "verify-user")] > 0
    assert ("user", "order") not in edges


def test_victorialogs_lines_are_records_with_trace_id_and_service_name() -> None:
    found = records("victorialogs_create_order.jsonl")
    assert {r["service.name"] for r in found} == {"order", "user"}
    assert {r["trace_id"] for r in found} == {ORDER_TRACE}
    assert all(victorialogs.is_access_line(r) for r in found)


def test_the_access_line_alone_is_no_warning_line_for_a_refusal() -> None:
    refused = records("victorialogs_refused_registration.jsonl")
    assert [victorialogs.describe(r) for r in refused] == [
        "ERROR observability.access: request handled"
    ]
    assert {r["trace_id"] for r in refused} == {REFUSED_TRACE}
    assert victorialogs.warnings_beyond_access(refused) == []


def test_error_lines_beyond_the_access_line_count_even_without_a_trace_id() -> None:
    untraced = records("victorialogs_untraced_warnings.jsonl")
    assert all("trace_id" not in r for r in untraced)
    described = [victorialogs.describe(r) for r in victorialogs.warnings_beyond_access(untraced)]
    assert "ERROR user_service.api.problems: unhandled error" in described


def test_logsql_quotes_the_dotted_field_name_and_matches_exactly() -> None:
    assert victorialogs.trace_query("ab" * 16) == f'trace_id:="{"ab" * 16}"'
    assert (
        victorialogs.trace_query("ab" * 16, "user")
        == f'trace_id:="{"ab" * 16}" AND "service.name":="user"'
    )
    assert victorialogs.untraced_warnings_query("order") == (
        '"service.name":="order" AND severity_number:>=13 AND trace_id:""'
    )


def test_exemplars_yield_their_trace_ids() -> None:
    answer = payload("prometheus_exemplars.json")
    assert prometheus.parse_exemplar_trace_ids(answer) == {ORDER_TRACE}


def test_rules_carry_health_and_the_series_each_recording_rule_writes() -> None:
    rules = prometheus.parse_rules(payload("prometheus_rules.json"))
    assert {r.kind for r in rules} == {"recording", "alerting"}
    assert all(r.health == "ok" for r in rules)
    selectors = {r.selector for r in rules if r.kind == "recording"}
    assert 'slo:sli_error:ratio_rate5m{service="order",slo="availability"}' in selectors
    assert "slo:error_budget_remaining:ratio" in selectors


def _journey(name: str = "create order (gRPC -> HTTP -> Kafka)") -> Journey:
    return Journey(name, ORDER_TRACE, ("order", "user"), 0.0, 'up{job="order"}', "OK")


def test_native_links_are_api_urls_where_the_native_builds_have_no_ui() -> None:
    links = {
        link.label: link.target
        for link in journey_links(Endpoints(), Mode.NATIVE, _journey(), Path("x.png"))
    }
    assert links["trace (Jaeger API)"] == f"http://127.0.0.1:16686/api/traces/{ORDER_TRACE}"
    assert links["waterfall (PNG)"] == "x.png"
    metrics = urlsplit(links["metrics (Prometheus API)"])
    assert metrics.path == "/api/v1/query"
    assert parse_qs(metrics.query)["query"] == ['up{job="order"}']


def test_compose_links_open_the_jaeger_and_prometheus_uis() -> None:
    found = journey_links(Endpoints(), Mode.COMPOSE, _journey(), None)
    links = {link.label: link.target for link in found}
    assert links["trace (Jaeger UI)"] == f"http://127.0.0.1:16686/trace/{ORDER_TRACE}"
    assert "waterfall (PNG)" not in links
    graph = urlsplit(links["metrics (Prometheus UI)"])
    assert (graph.path, parse_qs(graph.query)["g0.expr"]) == ("/graph", ['up{job="order"}'])


def test_the_victorialogs_link_puts_query_and_window_in_vmui_hash_route() -> None:
    target = victorialogs_link(Endpoints(), ORDER_TRACE).target
    assert target.startswith("http://127.0.0.1:9428/select/vmui/#/?query=")
    route = parse_qs(urlsplit(target).fragment.partition("?")[2])
    assert route["query"] == [f'trace_id:="{ORDER_TRACE}"']
    assert route["g0.relative_time"] == ["last_7_days"]
    # Without displayFields vmui shows only the message: the service would not be on the page.
    assert {"service.name", "trace_id"} <= set(route["displayFields"][0].split(","))


@pytest.mark.parametrize(
    ("uid", "expr", "compose_only"),
    [
        (
            "prometheus",
            "sum by (client, server) (rate(traces_service_graph_request_total[1m]))",
            True,
        ),
        ("loki", '{service_name=~"user|order"}', True),
        ("prometheus", "sum by (service_name) (rate(traces_spanmetrics_calls_total[1m]))", False),
        ("prometheus", "slo:burn_rate:ratio_rate1h", False),
    ],
)
def test_only_tempo_series_and_logql_panels_are_compose_only(
    uid: str, expr: str, compose_only: bool
) -> None:
    reason = compose_only_reason(PanelQuery("d.json", "panel", uid, expr))
    assert (reason is not None) is compose_only


def test_pictures_are_named_after_the_journey_and_the_trace(tmp_path: Path) -> None:
    assert slug("create order (gRPC -> HTTP -> Kafka)") == "create-order-grpc-http-kafka"
    assert picture_path(tmp_path, _journey()) == tmp_path / (
        f"create-order-grpc-http-kafka-{ORDER_TRACE[:8]}.png"
    )


def test_the_recorded_mode_is_native_unless_make_up_recorded_compose(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    assert recorded_mode(layout) is Mode.NATIVE
    layout.state_dir.mkdir(parents=True)
    (layout.state_dir / "mode").write_text("compose\n")
    assert recorded_mode(layout) is Mode.COMPOSE
