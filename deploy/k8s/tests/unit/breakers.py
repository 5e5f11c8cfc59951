"""Fixtures that break one rule each: a function that changes a rendered overlay so that exactly
that rule must report it, and the object and field the finding must name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Objects = list[dict[str, Any]]


def find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def container(objects: Objects, kind: str, name: str, index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = find(objects, kind, name)["spec"]["template"]["spec"]["containers"][
        index
    ]
    return result


def pod(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = find(objects, kind, name)["spec"]["template"]["spec"]
    return result


@dataclass(frozen=True)
class Breaker:
    rule: str
    description: str
    overlay: str
    breaks: Callable[[Objects], None]
    obj: str
    field: str


def _drop(mapping: dict[str, Any], key: str) -> None:
    del mapping[key]


def _set(mapping: dict[str, Any], key: str, value: Any) -> None:
    mapping[key] = value


def _env(container: dict[str, Any], name: str, value: str) -> None:
    """Set one literal variable of the container (replacing it when present)."""
    env = [v for v in container.get("env", []) if v["name"] != name]
    container["env"] = [*env, {"name": name, "value": value}]


def _remove_named(objects: Objects, kind: str, name: str) -> None:
    objects.remove(find(objects, kind, name))


def _configmap_value(objects: Objects, prefix: str, key: str, value: str) -> None:
    config_map = next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix)
    )
    config_map["data"][key] = value


BREAKERS = [
    Breaker(
        "probes",
        "no readiness probe",
        "dev",
        lambda o: _drop(container(o, "Deployment", "user"), "readinessProbe"),
        "Deployment/user",
        "spec.template.spec.containers[user].readinessProbe",
    ),
    Breaker(
        "probes",
        "readiness asks a path the admin server does not answer",
        "dev",
        lambda o: _set(
            container(o, "Deployment", "order")["readinessProbe"]["httpGet"], "path", "/ready"
        ),
        "Deployment/order",
        "spec.template.spec.containers[order].readinessProbe.httpGet.path",
    ),
    Breaker(
        "probes",
        "the relay's probe asks the API's admin port",
        "dev",
        lambda o: _set(
            container(o, "Deployment", "order-relay")["livenessProbe"]["httpGet"], "port", 9102
        ),
        "Deployment/order-relay",
        "spec.template.spec.containers[relay].livenessProbe.httpGet.port",
    ),
    Breaker(
        "probes",
        "the relay serves on ORDER_RELAY_ADMIN_PORT, moved away from the probes' port",
        "dev",
        lambda o: _env(container(o, "Deployment", "order-relay"), "ORDER_RELAY_ADMIN_PORT", "9200"),
        "Deployment/order-relay",
        "spec.template.spec.containers[relay].readinessProbe.httpGet.port",
    ),
    Breaker(
        "probes",
        "the consumer serves on USER_ORDERS_CONSUMER_ADMIN_PORT, moved away from the probes' port",
        "prod",
        lambda o: _env(
            container(o, "Deployment", "user-consumer"), "USER_ORDERS_CONSUMER_ADMIN_PORT", "9200"
        ),
        "Deployment/user-consumer",
        "spec.template.spec.containers[consumer].startupProbe.httpGet.port",
    ),
    Breaker(
        "resources",
        "no memory limit",
        "dev",
        lambda o: _drop(container(o, "Deployment", "user")["resources"]["limits"], "memory"),
        "Deployment/user",
        "spec.template.spec.containers[user].resources.limits.memory",
    ),
    Breaker(
        "restricted-security-context",
        "a writable root filesystem",
        "dev",
        lambda o: _set(
            container(o, "Deployment", "user")["securityContext"], "readOnlyRootFilesystem", False
        ),
        "Deployment/user",
        "spec.template.spec.containers[user].securityContext.readOnlyRootFilesystem",
    ),
    Breaker(
        "restricted-security-context",
        "privilege escalation allowed",
        "prod",
        lambda o: _drop(
            container(o, "Job", "order-migrate")["securityContext"], "allowPrivilegeEscalation"
        ),
        "Job/order-migrate",
        "spec.template.spec.containers[migrate].securityContext.allowPrivilegeEscalation",
    ),
    Breaker(
        "restricted-security-context",
        "no seccomp profile",
        "dev",
        lambda o: _drop(pod(o, "StatefulSet", "postgres")["securityContext"], "seccompProfile"),
        "StatefulSet/postgres",
        "spec.template.spec.containers[postgres].securityContext.seccompProfile.type",
    ),
    Breaker(
        "restricted-security-context",
        "capabilities kept",
        "dev",
        lambda o: _set(container(o, "Deployment", "jaeger")["securityContext"], "capabilities", {}),
        "Deployment/jaeger",
        "spec.template.spec.containers[jaeger].securityContext.capabilities.drop",
    ),
    Breaker(
        "drain",
        "grace shorter than the drain",
        "dev",
        lambda o: _set(pod(o, "Deployment", "user"), "terminationGracePeriodSeconds", 20),
        "Deployment/user",
        "spec.template.spec.terminationGracePeriodSeconds",
    ),
    Breaker(
        "drain",
        "a longer shutdown grace in the settings than the pod allows",
        "prod",
        lambda o: _configmap_value(o, "order-settings", "ORDER_SHUTDOWN_GRACE_SECONDS", "60"),
        "Deployment/order",
        "spec.template.spec.terminationGracePeriodSeconds",
    ),
    Breaker(
        "drain",
        "no preStop sleep",
        "dev",
        lambda o: _drop(container(o, "Deployment", "user-consumer"), "lifecycle"),
        "Deployment/user-consumer",
        "spec.template.spec.containers[consumer].lifecycle.preStop.sleep",
    ),
    Breaker(
        "zero-downtime-rollout",
        "maxUnavailable 1",
        "prod",
        lambda o: _set(
            find(o, "Deployment", "order")["spec"]["strategy"]["rollingUpdate"], "maxUnavailable", 1
        ),
        "Deployment/order",
        "spec.strategy.rollingUpdate.maxUnavailable",
    ),
    Breaker(
        "topology-spread",
        "no spread constraints",
        "prod",
        lambda o: _drop(pod(o, "Deployment", "user"), "topologySpreadConstraints"),
        "Deployment/user",
        "spec.template.spec.topologySpreadConstraints",
    ),
    Breaker(
        "disruption-budget",
        "no budget",
        "dev",
        lambda o: _remove_named(o, "PodDisruptionBudget", "order"),
        "Deployment/order",
        "spec.template.metadata.labels",
    ),
    Breaker(
        "network-policy",
        "no default deny",
        "prod",
        lambda o: _remove_named(o, "NetworkPolicy", "default-deny"),
        "Namespace/threadline",
        "NetworkPolicy",
    ),
    Breaker(
        "network-policy",
        "a workload no policy opens",
        "dev",
        lambda o: _remove_named(o, "NetworkPolicy", "redis"),
        "Deployment/redis",
        "spec.template.metadata.labels",
    ),
    Breaker(
        "migrations-job",
        "no migration Job",
        "dev",
        lambda o: _remove_named(o, "Job", "user-migrate"),
        "Deployment/user",
        "spec.template.spec.containers[user].image",
    ),
    Breaker(
        "selectors",
        "a Service selecting no pod",
        "dev",
        lambda o: _set(
            find(o, "Service", "user")["spec"], "selector", {"app.kubernetes.io/name": "users"}
        ),
        "Service/user",
        "spec.selector",
    ),
    Breaker(
        "selectors",
        "an autoscaler aiming at nothing",
        "prod",
        lambda o: _set(
            find(o, "HorizontalPodAutoscaler", "order")["spec"]["scaleTargetRef"], "name", "orders"
        ),
        "HorizontalPodAutoscaler/order",
        "spec.scaleTargetRef",
    ),
    Breaker(
        "references",
        "a Secret neither rendered nor provided",
        "prod",
        lambda o: _set(
            find(o, "Namespace", "threadline")["metadata"]["annotations"],
            "threadline.dev/external-secrets",
            "user-secrets,admin-token",
        ),
        "Deployment/order",
        "spec.template.spec.containers[order].envFrom.secretRef.name",
    ),
    Breaker(
        "pinned-images",
        "an image without a tag",
        "dev",
        lambda o: _set(
            container(o, "Deployment", "victorialogs"), "image", "victoriametrics/victoria-logs"
        ),
        "Deployment/victorialogs",
        "spec.template.spec.containers[victorialogs].image",
    ),
    Breaker(
        "pinned-images",
        "latest",
        "prod",
        lambda o: _set(container(o, "Deployment", "user"), "image", "threadline/user:latest"),
        "Deployment/user",
        "spec.template.spec.containers[user].image",
    ),
]
