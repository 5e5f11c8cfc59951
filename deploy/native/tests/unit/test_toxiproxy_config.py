"""One proxies file for both modes: compose runs it as written, the native stack its loopback copy,
and every address a service or the Kafka broker uses for a proxy is derived from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from threadline_native.component import Context, StackError
from threadline_native.components.kafka import PROXIED_LISTENERS, with_proxied_listeners
from threadline_native.components.order import OrderService
from threadline_native.components.toxiproxy import Toxiproxy
from threadline_native.components.user import UserService
from threadline_native.paths import find_project_root
from threadline_native.proxies import (
    declared_proxies,
    kafka_listeners,
    native_address,
    native_config,
    parse_proxies,
)

ROOT = find_project_root(Path(__file__).parent)
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose" / "compose.yaml").read_text())["services"]
CONTRACT_NAMES = {
    "user-postgres",
    "user-redis",
    "user-kafka",
    "order-postgres",
    "order-kafka",
    "order-user",
}
# Which proxy each service setting goes through, in both modes.
ROUTES = {
    ("user", "USER_DATABASE_URL"): "user-postgres",
    ("user", "USER_REDIS_URL"): "user-redis",
    ("user", "USER_KAFKA_BOOTSTRAP_SERVERS"): "user-kafka",
    ("order", "ORDER_DATABASE_URL"): "order-postgres",
    ("order", "ORDER_KAFKA_BOOTSTRAP_SERVERS"): "order-kafka",
    ("order", "ORDER_USER_SERVICE_URL"): "order-user",
}


def test_the_file_declares_exactly_the_contracted_proxies_on_their_own_high_ports() -> None:
    proxies = declared_proxies(ROOT)
    assert {proxy.name for proxy in proxies} == CONTRACT_NAMES
    ports = [proxy.listen_port for proxy in proxies]
    assert len(set(ports)) == len(ports)
    assert all(25000 <= port <= 29999 for port in ports)
    assert all(proxy.enabled for proxy in proxies), "pass-through means enabled, no toxics"


def test_native_copy_differs_from_compose_only_in_hosts() -> None:
    compose = {p.name: p for p in declared_proxies(ROOT)}
    native = {p.name: p for p in parse_proxies(native_config(ROOT))}
    assert native.keys() == compose.keys()
    for name, proxy in native.items():
        assert proxy.listen == f"127.0.0.1:{compose[name].listen_port}"
        assert proxy.upstream == f"127.0.0.1:{compose[name].upstream_port}"
        assert compose[name].listen.startswith("0.0.0.0:")
        assert compose[name].upstream_host in {"postgres", "redis", "kafka", "user"}


def test_native_toxiproxy_loads_the_loopback_copy_and_checks_every_listen_port(
    scratch_context: Context,
) -> None:
    toxiproxy = Toxiproxy(scratch_context)
    toxiproxy.work_dir.mkdir(parents=True)
    toxiproxy.write_config()
    written = (toxiproxy.work_dir / "proxies.json").read_text()
    assert written == native_config(ROOT)
    argv = toxiproxy.launch().argv
    assert argv[argv.index("-config") + 1] == str(toxiproxy.work_dir / "proxies.json")
    assert set(Toxiproxy.extra_ports) == {p.listen_port for p in declared_proxies(ROOT)}


def test_compose_toxiproxy_mounts_the_same_file_and_publishes_its_ports() -> None:
    service = COMPOSE["toxiproxy"]
    assert "./toxiproxy/proxies.json:/etc/toxiproxy/proxies.json:ro" in service["volumes"]
    command = service["command"]
    assert command[command.index("-config") + 1] == "/etc/toxiproxy/proxies.json"
    published = set()
    for mapping in service["ports"]:
        first, last = (int(p) for p in (mapping.rsplit(":", 1)[1].split("-") * 2)[:2])
        published |= set(range(first, last + 1))
    assert {p.listen_port for p in declared_proxies(ROOT)} <= published


@pytest.mark.parametrize(("service_and_setting", "proxy_name"), ROUTES.items())
def test_services_reach_their_dependencies_through_their_proxy_in_both_modes(
    scratch_context: Context, service_and_setting: tuple[str, str], proxy_name: str
) -> None:
    service, setting = service_and_setting
    proxy = next(p for p in declared_proxies(ROOT) if p.name == proxy_name)
    component = {"user": UserService, "order": OrderService}[service](scratch_context)
    assert native_address(proxy_name) in component.service_env()[setting]
    assert f"toxiproxy:{proxy.listen_port}" in COMPOSE[service]["environment"][setting]
    assert COMPOSE[service]["depends_on"]["toxiproxy"] == {"condition": "service_healthy"}


def test_each_kafka_proxy_has_a_broker_listener_advertised_at_that_proxy() -> None:
    listeners = kafka_listeners(declared_proxies(ROOT))
    assert {listener.name for listener in listeners} == {"USER_KAFKA", "ORDER_KAFKA"}
    shared = (ROOT / "deploy" / "compose" / "kafka" / "server.properties").read_text()
    native = with_proxied_listeners(shared, PROXIED_LISTENERS)
    environment: dict[str, Any] = COMPOSE["kafka"]["environment"]
    for listener in listeners:
        proxy_port = int(listener.advertised.rsplit(":", 1)[1])
        assert f"{listener.name}://127.0.0.1:{listener.port}" in _value(native, "listeners")
        assert f"{listener.name}://127.0.0.1:{proxy_port}" in _value(native, "advertised.listeners")
        assert f"{listener.name}:PLAINTEXT" in _value(native, "listener.security.protocol.map")
        assert f"{listener.name}://:{listener.port}" in environment["KAFKA_LISTENERS"].split(",")
        assert f"{listener.name}://toxiproxy:{proxy_port}" in environment[
            "KAFKA_ADVERTISED_LISTENERS"
        ].split(",")
    # The broker's own listeners stay as they were.
    assert _value(native, "listeners").startswith(_value(shared, "listeners") + ",")


def _value(properties: str, key: str) -> str:
    (line,) = [line for line in properties.splitlines() if line.startswith(f"{key}=")]
    return line.split("=", 1)[1]


def test_a_properties_file_without_listeners_is_refused_clearly() -> None:
    with pytest.raises(StackError, match="no listeners= line"):
        with_proxied_listeners("node.id=1\n", PROXIED_LISTENERS)


@pytest.mark.parametrize(
    "document",
    [
        '{"name": "x"}',
        '[{"name": "x", "listen": "127.0.0.1"}]',
        '[{"name": "x", "listen": "127.0.0.1:1", "upstream": "redis:port"}]',
        '[{"name": "x", "listen": ":1", "upstream": "a:1"}, {"name": "x", "listen": ":2",'
        ' "upstream": "a:1"}]',
    ],
)
def test_a_malformed_proxies_file_is_refused(document: str) -> None:
    with pytest.raises(ValueError, match=r"proxies|proxy|repeat"):
        parse_proxies(document)


def test_the_file_is_valid_toxiproxy_config_json() -> None:
    entries = json.loads((ROOT / "deploy" / "compose" / "toxiproxy" / "proxies.json").read_text())
    assert all(set(entry) == {"name", "listen", "upstream", "enabled"} for entry in entries)
