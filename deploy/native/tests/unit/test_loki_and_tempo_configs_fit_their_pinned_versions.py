"""Compose's Loki and Tempo configs use only keys their pinned releases know, with the values the
stack depends on, and point where the collector and Grafana expect them.

Neither server runs on this project's machines (AGPL, and no Docker engine), so these static
checks are all that stands between a typo and a compose stack whose Loki or Tempo will not start.
The allow-lists sit beside the configs (loki.keys.yaml, tempo.keys.yaml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from threadline_native.config_keys import (
    KeysFile,
    load_keys_file,
    required_violations,
    schema_violations,
    value_at,
)
from threadline_native.grafana_refs import datasources
from threadline_native.paths import find_project_root
from threadline_native.versions import load_versions

ROOT = find_project_root(Path(__file__).parent)
COMPOSE_DIR = ROOT / "deploy" / "compose"
# (component, its pin in versions.env): the config and its allow-list are <c>/<c>.yaml/.keys.yaml.
PINNED = [("loki", "LOKI_VERSION"), ("tempo", "TEMPO_VERSION")]


def config(component: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (COMPOSE_DIR / component / f"{component}.yaml").read_text()
    )
    return loaded


def keys(component: str) -> KeysFile:
    return load_keys_file(COMPOSE_DIR / component / f"{component}.keys.yaml")


def collector_exporters() -> dict[str, Any]:
    path = COMPOSE_DIR / "otel-collector" / "config.yaml"
    exporters: dict[str, Any] = yaml.safe_load(path.read_text())["exporters"]
    return exporters


def port_of(address: str) -> int:
    """The port of ``http://host:port/path`` or ``host:port``."""
    return urlsplit(address if "//" in address else f"//{address}").port or 0


@pytest.mark.parametrize(("component", "pin"), PINNED)
def test_allow_list_was_read_for_the_pinned_release(component: str, pin: str) -> None:
    pinned = load_versions(ROOT / "deploy" / "versions.env")[pin]
    assert keys(component).version == pinned, (
        f"{component} is pinned at {pinned}: re-read its reference and update "
        f"{component}.keys.yaml before bumping the version"
    )


@pytest.mark.parametrize("component", [c for c, _ in PINNED])
def test_config_uses_only_keys_and_values_its_release_knows(component: str) -> None:
    violations = list(schema_violations(config(component), keys(component).schema))
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("component", [c for c, _ in PINNED])
def test_config_has_the_settings_the_stack_depends_on(component: str) -> None:
    violations = list(required_violations(config(component), keys(component).required))
    assert not violations, "\n".join(violations)


def test_loki_retention_is_applied_by_its_compactor() -> None:
    loki = config("loki")
    if not loki.get("limits_config", {}).get("retention_period"):
        return
    # limits_config.retention_period "only applies if retention_enabled is true in the compactor
    # config", and Loki refuses retention without a store for delete requests.
    assert loki.get("compactor", {}).get("retention_enabled") is True
    assert loki["compactor"].get("delete_request_store")


def test_tempo_local_blocks_have_somewhere_to_live() -> None:
    tempo = config("tempo")
    if "local-blocks" in value_at(tempo, "overrides.defaults.metrics_generator.processors"):
        assert value_at(tempo, "metrics_generator.traces_storage.path")


def test_loki_indexes_only_resource_attributes_the_services_send(
    service_resource_attributes: frozenset[str],
) -> None:
    resource = value_at(config("loki"), "limits_config.otlp_config.resource_attributes")
    indexed = {
        attribute
        for rule in resource["attributes_config"]
        if rule["action"] == "index_label"
        for attribute in rule["attributes"]
    }
    assert indexed, "Loki should index the service name at least"
    assert indexed <= service_resource_attributes


def test_tempo_service_graph_dimensions_name_attributes_the_services_send(
    service_resource_attributes: frozenset[str],
) -> None:
    # Besides resource attributes, the span attributes the collector's span metrics key on.
    spanmetrics = yaml.safe_load((COMPOSE_DIR / "otel-collector" / "config.yaml").read_text())
    span_attributes = {d["name"] for d in spanmetrics["connectors"]["spanmetrics"]["dimensions"]}
    dimensions = value_at(config("tempo"), "metrics_generator.processor.service_graphs.dimensions")
    assert set(dimensions) <= service_resource_attributes | span_attributes


def test_loki_and_tempo_listen_where_the_collector_sends() -> None:
    exporters = collector_exporters()
    loki_port = value_at(config("loki"), "server.http_listen_port")
    assert port_of(exporters["otlphttp/loki"]["endpoint"]) == loki_port
    tempo_otlp = value_at(config("tempo"), "distributor.receivers.otlp.protocols.grpc.endpoint")
    assert port_of(exporters["otlp/tempo"]["endpoint"]) == port_of(tempo_otlp)


def test_grafana_reaches_loki_and_tempo_on_their_http_ports() -> None:
    urls = {source["uid"]: source["url"] for source in datasources(COMPOSE_DIR)}
    for component in ("loki", "tempo"):
        assert port_of(urls[component]) == value_at(config(component), "server.http_listen_port")


# The checker itself: each kind of mistake it exists to catch is caught.


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"server": {"http_listen_prot": 3100}}, "server.http_listen_prot: unknown key"),
        ({"server": {"http_listen_port": "3100"}}, "server.http_listen_port: expected port"),
        ({"server": {"log_level": "verbose"}}, "server.log_level: 'verbose' is not one of"),
        ({"auth_enabled": "false"}, "auth_enabled: expected bool"),
        ({"schema_config": {"configs": [{"schema": "v14"}]}}, "configs[0].schema: 'v14'"),
        ({"compactor": {"retention_enabled": True}}, "compactor.retention_enabled: unknown key"),
        ({"external_labels": {"source": 1}}, "external_labels.source: expected str"),
    ],
)
def test_checker_reports_unknown_keys_wrong_types_and_values(
    document: dict[str, Any], expected: str
) -> None:
    schema = {
        "auth_enabled": "bool",
        "server": {"http_listen_port": "port", "log_level": {"enum": ["info", "warn"]}},
        "schema_config": {"configs": [{"schema": {"enum": ["v13"]}}]},
        "compactor": {},
        "external_labels": {"map": "str"},
    }
    violations = list(schema_violations(document, schema))
    assert any(expected in violation for violation in violations), violations


def test_checker_reports_missing_and_different_required_values() -> None:
    document = {"limits_config": {}, "overrides": {"processors": ["local-blocks"]}}
    required = {
        "limits_config.allow_structured_metadata": True,
        "overrides.processors": {"contains": "service-graphs"},
        "schema_config.configs[-1].store": "tsdb",
    }
    assert len(list(required_violations(document, required))) == 3
