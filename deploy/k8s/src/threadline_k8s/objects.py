"""Reading rendered objects: workloads, their pod templates, containers and label matching."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from threadline_k8s.services import service_images

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
POD_OWNER_KINDS = WORKLOAD_KINDS | {"Job"}


@dataclass(frozen=True)
class Workload:
    """An object that owns pods, with its pod template."""

    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def template(self) -> dict[str, Any]:
        return dict(self.obj["spec"]["template"])

    @property
    def pod_spec(self) -> dict[str, Any]:
        return dict(self.template.get("spec", {}))

    @property
    def pod_labels(self) -> dict[str, str]:
        return dict(self.template.get("metadata", {}).get("labels", {}))

    def containers(self) -> Iterator[dict[str, Any]]:
        yield from self.pod_spec.get("initContainers", [])
        yield from self.pod_spec.get("containers", [])

    def runs_service(self) -> bool:
        """Whether one of its containers is a Threadline service image."""
        return any(image_name(c.get("image", "")) in service_images() for c in self.containers())


def workloads(
    objects: list[dict[str, Any]], kinds: frozenset[str] = POD_OWNER_KINDS
) -> list[Workload]:
    return [Workload(o) for o in objects if o.get("kind") in kinds]


def image_name(image: str) -> str:
    """The image without its tag or digest: `postgres:15` -> `postgres`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def image_tag(image: str) -> str | None:
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _expression_holds(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator = str(expression["key"]), str(expression["operator"])
    values = expression.get("values", [])
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    return (key in labels) == (operator == "Exists")


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    if selector is None:
        return False
    return all(
        labels.get(key) == value for key, value in selector.get("matchLabels", {}).items()
    ) and all(
        _expression_holds(expression, labels) for expression in selector.get("matchExpressions", [])
    )


def container_env(container: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, str]:
    """The container's environment as the kubelet builds it from ConfigMaps and literals (Secret
    values are not looked into: they hold no drain or port settings)."""
    config_maps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o.get("kind") == "ConfigMap"
    }
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps.get(source["configMapRef"]["name"], {}))
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
    return env
