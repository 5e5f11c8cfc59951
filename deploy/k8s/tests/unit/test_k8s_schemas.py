"""Every rendered object validates offline against the pinned Kubernetes version and the CRDs;
a broken object of each kind of schema fails."""

from __future__ import annotations

from typing import Any

import pytest

from threadline_k8s.crd_schemas import CrdSchemas
from threadline_k8s.paths import K8sLayout
from threadline_k8s.schemas import validate_objects

from .breakers import container, find

Objects = list[dict[str, Any]]


def _validate(objects: Objects, layout: K8sLayout) -> list[str]:
    findings = validate_objects(
        objects,
        kubernetes_version=layout.version("KUBERNETES_VERSION"),
        crds=CrdSchemas(layout.crd_dir),
    )
    return [str(f) for f in findings]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_overlay_validates_against_pinned_kubernetes_and_crds(
    rendered: dict[str, Objects], layout: K8sLayout, overlay: str
) -> None:
    assert _validate(rendered[overlay], layout) == []


def test_prod_renders_the_operator_resources(rendered: dict[str, Objects]) -> None:
    kinds = {o["kind"] for o in rendered["prod"]}
    assert {"Kafka", "KafkaNodePool", "Cluster", "PodMonitor", "ScaledObject"} <= kinds


def test_unknown_field_of_a_builtin_kind_fails(dev: Objects, layout: K8sLayout) -> None:
    container(dev, "Deployment", "user")["readinesProbe"] = {}

    assert any(
        "Deployment/user: spec.template.spec.containers.0:" in line and "readinesProbe" in line
        for line in _validate(dev, layout)
    )


def test_wrong_type_in_a_custom_resource_fails(prod: Objects, layout: K8sLayout) -> None:
    find(prod, "Cluster", "threadline-db")["spec"]["instances"] = "three"

    assert any(
        line.startswith("Cluster/threadline-db: spec.instances:")
        for line in _validate(prod, layout)
    )


def test_kind_without_schema_fails(dev: Objects, layout: K8sLayout) -> None:
    dev.append({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}})

    assert any(line.startswith("Gadget/g: apiVersion:") for line in _validate(dev, layout))
