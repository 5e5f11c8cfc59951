"""Every component of the native stack binds its own ports, and the public ones are DESIGN §7's."""

from __future__ import annotations

from collections import Counter

from threadline_native.components import ALL

PUBLIC_PORTS = {
    "postgres": 5432,
    "redis": 6379,
    "kafka": 9092,
    "otel-collector": 4317,
    "prometheus": 9090,
    "alertmanager": 9093,
    "victorialogs": 9428,
    "jaeger": 16686,
    "toxiproxy": 8474,
}
SERVICE_PORTS = {8000, 9101, 50051, 9102}


def test_public_ports_are_the_documented_ones() -> None:
    ports = {component.name: component.port for component in ALL}
    for name, port in PUBLIC_PORTS.items():
        assert ports[name] == port, name


def test_no_two_components_share_a_port_and_no_backend_takes_a_service_port() -> None:
    every = [port for c in ALL for port in (c.port, *c.extra_ports)]
    clashes = [port for port, count in Counter(every).items() if count > 1]
    assert clashes == []
    backends = {
        port for c in ALL if c.name not in ("user", "order") for port in (c.port, *c.extra_ports)
    }
    assert not SERVICE_PORTS & backends


def test_backends_start_after_the_data_stores_and_the_collector_after_its_exporters() -> None:
    order = [component.name for component in ALL]
    assert order[:3] == ["postgres", "redis", "kafka"]
    for exporter_target in ("victorialogs", "jaeger", "prometheus"):
        assert order.index(exporter_target) < order.index("otel-collector")
    assert order.index("alert-recorder") < order.index("alertmanager")


def test_no_agpl_backend_runs_natively() -> None:
    names = {component.name for component in ALL}
    assert not names & {"loki", "tempo", "grafana"}
