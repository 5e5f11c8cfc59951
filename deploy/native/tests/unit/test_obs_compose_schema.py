"""`docker compose config` would accept compose.yaml: it is valid against the Compose Spec."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the dev group
import pytest
import yaml

from threadline_native.paths import find_project_root
from threadline_native.versions import load_versions

ROOT = find_project_root(Path(__file__).parent)
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
# A copy of compose-spec.json sits next to the project checkout (not in it).
SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")

# The components the mission names, each as (compose service, image, tag prefix, pin in
# versions.env): compose must keep running every one of them, at the pinned version.
MISSION_IMAGES = [
    ("postgres", "postgres", "", "POSTGRES_VERSION"),
    ("redis", "redis", "", "REDIS_VERSION"),
    ("kafka", "apache/kafka", "", "KAFKA_VERSION"),
    ("prometheus", "prom/prometheus", "v", "PROMETHEUS_VERSION"),
    ("alertmanager", "prom/alertmanager", "v", "ALERTMANAGER_VERSION"),
    ("loki", "grafana/loki", "", "LOKI_VERSION"),
    ("tempo", "grafana/tempo", "", "TEMPO_VERSION"),
    ("jaeger", "jaegertracing/jaeger", "", "JAEGER_VERSION"),
    ("grafana", "grafana/grafana", "", "GRAFANA_VERSION"),
    # Built from the Collector Builder manifest both modes share (see its Dockerfile).
    ("otel-collector", "threadline/otelcol", "", "OTELCOL_VERSION"),
]


def interpolate(text: str, values: dict[str, str]) -> str:
    """Replace ${VAR}, ${VAR:-default} and ${VAR:?message} as compose does with an env file."""

    def replace(match: re.Match[str]) -> str:
        name, operator, default = match[1], match[2], match[3]
        if values.get(name):
            return values[name]
        # ${VAR:-default}: an optional setting (THREADLINE_ADMIN_TOKEN_FILE), not a pin.
        if operator in {"-", ":-"}:
            return default
        if name not in values:
            raise KeyError(f"compose.yaml uses ${{{name}}}, which deploy/versions.env lacks")
        return values[name]

    return _VARIABLE.sub(replace, text.replace("$$", "\0")).replace("\0", "$")


def compose_document() -> dict[str, Any]:
    values = load_versions(ROOT / "deploy" / "versions.env")
    document: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), values))
    return document


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is not at ../shared/schemas ({SCHEMA.name})")
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose_document()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_container_has_a_healthcheck_a_memory_limit_and_loopback_ports() -> None:
    for name, service in compose_document()["services"].items():
        assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"
        assert "mem_limit" in service, f"{name} has no memory limit"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_every_dependency_waits_for_health() -> None:
    for name, service in compose_document()["services"].items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_interpolation_fails_loudly_on_an_unpinned_variable() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        interpolate("image: x:${NOPE:?set it}", {})


def test_interpolation_takes_the_default_of_an_optional_variable() -> None:
    assert interpolate("- ${NOPE:-./empty}:/run/x:ro", {}) == "- ./empty:/run/x:ro"
    assert interpolate("- ${SET:-./empty}:/run/x:ro", {"SET": "/t"}) == "- /t:/run/x:ro"


def test_the_admin_token_file_compose_mounts_by_default_exists_and_is_empty() -> None:
    services = compose_document()["services"]
    for name in ("user", "order", "order-relay", "user-consumer", "prometheus"):
        mounts = [v for v in services[name]["volumes"] if "admin-token" in str(v)]
        assert len(mounts) == 1, name
        source = COMPOSE.parent / mounts[0].split(":")[0]
        assert source.is_file(), source
        assert source.read_text() == "", "the default must ask for no token"


@pytest.mark.parametrize(("service", "image", "prefix", "pin"), MISSION_IMAGES)
def test_compose_runs_every_mission_component_at_its_pinned_version(
    service: str, image: str, prefix: str, pin: str
) -> None:
    raw = yaml.safe_load(COMPOSE.read_text())["services"][service]
    assert f"${{{pin}" in raw["image"], f"{service}: the tag must come from versions.env"
    version = load_versions(ROOT / "deploy" / "versions.env")[pin]
    assert compose_document()["services"][service]["image"] == f"{image}:{prefix}{version}"


def test_compose_builds_its_collector_with_the_builder_of_the_pinned_release() -> None:
    version = load_versions(ROOT / "deploy" / "versions.env")["OTELCOL_VERSION"]
    build = compose_document()["services"]["otel-collector"]["build"]
    assert build["args"]["OTELCOL_VERSION"] == version
    # The build context is relative to compose.yaml, the Dockerfile to the context.
    dockerfile = (COMPOSE.parent / build["context"] / build["dockerfile"]).read_text()
    assert "go.opentelemetry.io/collector/cmd/builder@v${OTELCOL_VERSION}" in dockerfile
