"""The dev overlay's NetworkPolicies allow exactly the flows of docs/architecture.md (and the
observability pipeline's), evaluated pod to pod: a flow needs the source's egress and the
target's ingress to allow it. Clients from outside the namespace are not modelled here."""

from __future__ import annotations

from typing import Any

from threadline_k8s.objects import Workload, selector_matches, workloads
from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import load_registry

Objects = list[dict[str, Any]]

EXPECTED = {
    # the services: docs/architecture.md
    ("user", "postgres", 5432),
    ("user", "redis", 6379),
    ("user-consumer", "postgres", 5432),
    ("user-consumer", "kafka", 9092),
    ("order", "user", 8000),
    ("order", "postgres", 5432),
    ("order", "kafka", 9092),
    ("order-relay", "postgres", 5432),
    ("order-relay", "kafka", 9092),
    ("user-migrate", "postgres", 5432),
    ("order-migrate", "postgres", 5432),
    # telemetry out of each service process
    ("user", "otel-collector", 4317),
    ("user-consumer", "otel-collector", 4317),
    ("order", "otel-collector", 4317),
    ("order-relay", "otel-collector", 4317),
    # the observability pipeline: docs/observability.md
    ("otel-collector", "jaeger", 4517),
    ("otel-collector", "victorialogs", 9428),
    ("otel-collector", "prometheus", 9090),
    ("prometheus", "user", 9101),
    ("prometheus", "user-consumer", 9104),
    ("prometheus", "order", 9102),
    ("prometheus", "order-relay", 9103),
    ("prometheus", "otel-collector", 8888),
    ("prometheus", "jaeger", 8890),
    ("prometheus", "victorialogs", 9428),
    ("prometheus", "alertmanager", 9093),
    ("alertmanager", "alert-recorder", 9098),
}


def generated_flows() -> set[tuple[str, str, int]]:
    """A service made by `make new-service`: its database, telemetry and scrape, no more."""
    return {
        flow
        for entry in load_registry(find_project_root()).generated()
        for flow in (
            (entry.name, "postgres", 5432),
            (f"{entry.name}-migrate", "postgres", 5432),
            (entry.name, "otel-collector", 4317),
            ("prometheus", entry.name, entry.admin_port),
        )
    }


def _peer_matches(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    if "ipBlock" in peer:
        return False
    # Same namespace, or any namespace ({}); a named other namespace is never ours.
    namespaces = peer.get("namespaceSelector")
    if namespaces not in (None, {}):
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], labels)


def _rule_allows(rule: dict[str, Any], key: str, labels: dict[str, str], port: int) -> bool:
    peers = rule.get(key)
    ports = rule.get("ports")
    peer_ok = peers is None or any(_peer_matches(p, labels) for p in peers)
    port_ok = ports is None or any(p.get("port") == port for p in ports)
    return peer_ok and port_ok


def _allows(
    policies: Objects, direction: str, pod: dict[str, str], peer: dict[str, str], port: int
) -> bool:
    key, peer_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if direction in p["spec"].get("policyTypes", [])
        and selector_matches(p["spec"]["podSelector"], pod)
    ]
    return any(
        _rule_allows(r, peer_key, peer, port) for p in selecting for r in p["spec"].get(key, [])
    )


def _ports(workload: Workload) -> set[int]:
    return {p["containerPort"] for c in workload.containers() for p in c.get("ports", [])}


def allowed_flows(objects: Objects) -> set[tuple[str, str, int]]:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    pods = workloads(objects)
    return {
        (source.name, target.name, port)
        for source in pods
        for target in pods
        if source is not target
        for port in _ports(target)
        if _allows(policies, "Egress", source.pod_labels, target.pod_labels, port)
        and _allows(policies, "Ingress", target.pod_labels, source.pod_labels, port)
    }


def test_dev_allows_exactly_the_architecture_flows(rendered: dict[str, Objects]) -> None:
    allowed, expected = allowed_flows(rendered["dev"]), EXPECTED | generated_flows()
    assert allowed - expected == set(), "flows allowed but not in the architecture"
    assert expected - allowed == set(), "architecture flows the policies block"


def test_a_policy_opening_too_much_is_caught(rendered: dict[str, Objects]) -> None:
    objects = [dict(o) for o in rendered["dev"]]
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "too-open"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{}],
                "egress": [{}],
            },
        }
    )

    assert ("user", "order", 50051) in allowed_flows(objects) - EXPECTED
