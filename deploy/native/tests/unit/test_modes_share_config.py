"""Compose and the native stack must run the same versions from the same configuration files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from threadline_native.components import ALL
from threadline_native.paths import find_project_root
from threadline_native.versions import load_versions

ROOT = find_project_root(Path(__file__).parent)
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_every_version_compose_interpolates_is_pinned_in_versions_env() -> None:
    pinned = load_versions(ROOT / "deploy" / "versions.env")
    # ${VAR:-default} is an optional setting with its default (THREADLINE_ADMIN_TOKEN_FILE),
    # not a version.
    referenced = {
        name
        for name, operator in re.findall(r"\$\{([A-Z0-9_]+)(:?-)?", COMPOSE.read_text())
        if not operator
    }
    assert referenced, "compose.yaml should take its image versions from versions.env"
    assert referenced <= pinned.keys()


def test_every_native_data_store_has_a_compose_service_on_the_same_port() -> None:
    services = compose_services()
    for component in ALL:
        if component.name not in ("postgres", "redis", "kafka"):
            continue
        published = services[component.name]["ports"]
        assert f"127.0.0.1:{component.port}:{component.port}" in published


def test_compose_mounts_the_config_files_the_native_stack_runs_with() -> None:
    services = compose_services()
    mounts = {
        name: " ".join(str(volume) for volume in service.get("volumes", []))
        for name, service in services.items()
    }
    assert "./postgres/postgresql.conf:" in mounts["postgres"]
    assert "./postgres/init:/docker-entrypoint-initdb.d" in mounts["postgres"]
    assert "./redis/redis.conf:" in mounts["redis"]
    assert "./kafka:/mnt/shared/config" in mounts["kafka"]


def test_compose_overrides_only_what_differs_inside_a_container_network() -> None:
    overridden = set(compose_services()["kafka"]["environment"])
    assert overridden <= {
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_LOG_DIRS",
        "KAFKA_HEAP_OPTS",
    }
