"""Every component of the native stack binds its own ports, and the public ones are DESIGN §7's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from threadline_native.components import ALL
from threadline_native.paths import find_project_root
from threadline_native.stack import load_context, select

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
# The APIs and their admin ports, and the admin ports of the relay and the consumer processes.
SERVICE_PORTS = {8000, 9101, 50051, 9102, 9103, 9104}
SERVICE_PROCESSES = ("user", "order", "order-relay", "user-consumer")


def test_public_ports_are_the_documented_ones() -> None:
    ports = {component.name: component.port for component in ALL}
    for name, port in PUBLIC_PORTS.items():
        assert ports[name] == port, name


def test_no_two_components_share_a_port_and_no_backend_takes_a_service_port() -> None:
    every = [port for c in ALL for port in (c.port, *c.extra_ports)]
    clashes = [port for port, count in Counter(every).items() if count > 1]
    assert clashes == []
    backends = {
        port for c in ALL if c.name not in SERVICE_PROCESSES for port in (c.port, *c.extra_ports)
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


def test_nothing_native_fetches_an_agpl_module() -> None:
    root = find_project_root(Path(__file__).parent)
    sources = [
        root / "Makefile",
        *(root / ".ci").iterdir(),
        *(root / "deploy" / "native").rglob("*.py"),
        *(root / "deploy" / "native").rglob("*.sh"),
        *(root / "deploy" / "native").rglob("*.yaml"),
        root / "deploy" / "versions.env",
    ]
    agpl_modules = (
        "github.com/grafana/loki",
        "github.com/grafana/tempo",
        "github.com/grafana/grafana",
    )
    fetching = [
        f"{path.relative_to(root)}: {module}"
        for path in sources
        if path.is_file() and "tests" not in path.parts
        for module in agpl_modules
        if module in path.read_text()
    ]
    assert fetching == []


def test_the_relay_and_the_consumer_start_after_the_service_that_migrates_their_database() -> None:
    order = [component.name for component in ALL]
    assert order.index("order") < order.index("order-relay")
    assert order.index("user") < order.index("user-consumer")
    ports = {component.name: component.port for component in ALL}
    assert (ports["order-relay"], ports["user-consumer"]) == (9103, 9104)


def test_the_stack_runs_the_services_without_their_in_process_relay_and_consumer() -> None:
    context = load_context()
    components = {component.name: component for component in select(context)}
    order, relay = components["order"], components["order-relay"]
    user, consumer = components["user"], components["user-consumer"]
    assert order.launch().env["ORDER_RELAY_ENABLED"] == "false"
    assert user.launch().env["USER_ORDERS_CONSUMER_ENABLED"] == "false"
    assert relay.launch().argv[1:] == ["relay"]
    assert consumer.launch().argv[1:] == ["consume"]
    # Each worker reaches the stores exactly as its service does (through the same proxies).
    for service, worker in ((order, relay), (user, consumer)):
        shared = service.launch().env
        assert {k: v for k, v in worker.launch().env.items() if k in shared} == shared
    assert relay.launch().env["ORDER_RELAY_ADMIN_PORT"] == "9103"
    assert consumer.launch().env["USER_ORDERS_CONSUMER_ADMIN_PORT"] == "9104"
