"""The services' Dockerfiles keep the image rules (no Docker engine needed); each rule fails on a
fixture Dockerfile that breaks it, and the image version agrees with the package and k8s tag."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from threadline_k8s.dockerfile_rules import DOCKER_RULES, Dockerfile, check_dockerfile
from threadline_k8s.paths import K8sLayout
from threadline_k8s.services import service_names

FIXTURES = Path(__file__).parent / "fixtures" / "dockerfiles"
# user, order and any service `make new-service` added (deploy/services.yaml).
SERVICES = service_names()


def _dockerfile(layout: K8sLayout, service: str) -> Dockerfile:
    return Dockerfile.read(layout.project.root / "services" / service / "Dockerfile")


@pytest.mark.parametrize("service", SERVICES)
def test_service_dockerfile_keeps_every_rule(layout: K8sLayout, service: str) -> None:
    findings = check_dockerfile(_dockerfile(layout, service))
    assert findings == [], "\n".join(map(str, findings))


def test_every_rule_has_a_failing_fixture() -> None:
    assert {p.name.removesuffix(".Dockerfile") for p in FIXTURES.glob("*.Dockerfile")} == set(
        DOCKER_RULES
    )


@pytest.mark.parametrize("rule", sorted(DOCKER_RULES))
def test_rule_fails_on_its_fixture(rule: str) -> None:
    findings = check_dockerfile(Dockerfile.read(FIXTURES / f"{rule}.Dockerfile"))

    assert findings, f"{rule}: its fixture passed"
    assert {f.rule for f in findings} == {rule}, "\n".join(map(str, findings))


@pytest.mark.parametrize("service", SERVICES)
def test_image_version_is_package_version_and_k8s_tag(
    layout: K8sLayout, rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    root = layout.project.root
    package = tomllib.loads((root / "services" / service / "pyproject.toml").read_text())
    version = package["project"]["version"]
    label = _dockerfile(layout, service).final_labels["org.opencontainers.image.version"]
    tags = {
        c["image"].rsplit(":", 1)[1]
        for objects in rendered.values()
        for o in objects
        if o["kind"] in ("Deployment", "Job")
        for c in o["spec"]["template"]["spec"]["containers"]
        if c["image"].startswith(f"threadline/{service}:")
    }
    assert label == version
    assert tags == {version}
