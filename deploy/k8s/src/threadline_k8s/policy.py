"""The rules a platform team checks, over the rendered objects of an overlay.

Each rule is a function `(objects) -> findings`, registered in `RULES` under its name; a finding
names the object, the field and the rule. docs/kubernetes.md lists them with their reasons, and
deploy/k8s/tests/unit proves each one fails on a workload that breaks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from threadline_k8s.findings import Finding, object_name
from threadline_k8s.objects import (
    WORKLOAD_KINDS,
    Workload,
    container_env,
    image_name,
    image_tag,
    selector_matches,
    workloads,
)
from threadline_k8s.service_settings import (
    PROBE_PATH_BY_KIND,
    admin_port_field,
    drain_budget,
    setting,
    settings_by_image,
)
from threadline_k8s.services import service_images

Objects = list[dict[str, Any]]
Rule = Callable[[Objects], Iterator[Finding]]
RULES: dict[str, Rule] = {}
#: A Namespace annotation listing Secrets the platform provides (never rendered from the repo).
EXTERNAL_SECRETS_ANNOTATION = "threadline.dev/external-secrets"
#: terminationGracePeriodSeconds may exceed what the drain needs by at most this much: more
#: would only delay a rollout and hide a hung process.
GRACE_SPARE_SECONDS = 10
RESTRICTED = "restricted-security-context"


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        RULES[name] = function
        return function

    return register


def check_all(objects: Objects, only: list[str] | None = None) -> list[Finding]:
    """Every rule (or those named) over the objects, findings sorted."""
    findings: list[Finding] = []
    for name, function in RULES.items():
        if only is None or name in only:
            findings.extend(function(objects))
    return sorted(findings)


def _field(name: str, index: int) -> str:
    return f"spec.template.spec.containers[{name or index}]"


def _containers(workload: Workload) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, container in enumerate(workload.containers()):
        yield _field(container.get("name", ""), index), container


@rule("probes")
def probes(objects: Objects) -> Iterator[Finding]:
    """Every long-running container has startup, liveness and readiness probes; a service's ask
    its admin port (the one its settings serve) on the path the admin server answers."""
    for workload in workloads(objects, WORKLOAD_KINDS):
        for field, container in _containers(workload):
            settings = settings_by_image().get(image_name(container.get("image", "")))
            for kind in PROBE_PATH_BY_KIND:
                if not container.get(kind):
                    yield Finding(workload.ref, f"{field}.{kind}", "probes", "missing")
                elif settings is not None:
                    env = container_env(container, objects)
                    admin_port = int(setting(settings, admin_port_field(container), env))
                    yield from _service_probe(workload, field, container, kind, admin_port)


def _service_probe(
    workload: Workload, field: str, container: dict[str, Any], kind: str, admin_port: int
) -> Iterator[Finding]:
    where = f"{field}.{kind}"
    http = container[kind].get("httpGet")
    if http is None:
        yield Finding(workload.ref, where, "probes", "must be httpGet on the admin port")
        return
    paths = PROBE_PATH_BY_KIND[kind]
    if http.get("path") not in paths:
        yield Finding(
            workload.ref,
            f"{where}.httpGet.path",
            "probes",
            f"{http.get('path')!r} is not what the admin server answers for it "
            f"({', '.join(sorted(paths))})",
        )
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port = ports.get(http.get("port"), http.get("port"))
    if port != admin_port:
        yield Finding(
            workload.ref,
            f"{where}.httpGet.port",
            "probes",
            f"{http.get('port')!r} is port {port}, but the process serves its admin port on "
            f"{admin_port}",
        )


@rule("resources")
def resources(objects: Objects) -> Iterator[Finding]:
    """CPU and memory requests and limits on every container of every pod."""
    for workload in workloads(objects):
        for field, container in _containers(workload):
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in container.get("resources", {}).get(bound, {}):
                        yield Finding(
                            workload.ref,
                            f"{field}.resources.{bound}.{resource}",
                            "resources",
                            "missing",
                        )


@rule(RESTRICTED)
def restricted_security_context(objects: Objects) -> Iterator[Finding]:
    """Pod Security "restricted": non-root, seccomp RuntimeDefault, no privilege escalation, all
    capabilities dropped, and (beyond the profile) a read-only root filesystem."""
    for workload in workloads(objects):
        pod = workload.pod_spec
        pod_context = pod.get("securityContext", {})
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(host):
                yield Finding(
                    workload.ref, f"spec.template.spec.{host}", RESTRICTED, "must be unset"
                )
        for index, volume in enumerate(pod.get("volumes", [])):
            if "hostPath" in volume:
                yield Finding(
                    workload.ref,
                    f"spec.template.spec.volumes[{index}].hostPath",
                    RESTRICTED,
                    "host paths are not allowed",
                )
        for field, container in _containers(workload):
            yield from _restricted_container(workload, field, container, pod_context)


def _restricted_container(
    workload: Workload, field: str, container: dict[str, Any], pod_context: dict[str, Any]
) -> Iterator[Finding]:
    context = container.get("securityContext", {})
    where = f"{field}.securityContext"
    seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
    capabilities = context.get("capabilities", {})
    broken = {
        "seccompProfile.type": (
            seccomp.get("type") not in ("RuntimeDefault", "Localhost"),
            "must be RuntimeDefault (here or on the pod)",
        ),
        "runAsNonRoot": (
            context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True,
            "must be true (here or on the pod)",
        ),
        "runAsUser": (context.get("runAsUser", pod_context.get("runAsUser")) == 0, "is 0"),
        "privileged": (bool(context.get("privileged")), "is true"),
        "allowPrivilegeEscalation": (
            context.get("allowPrivilegeEscalation") is not False,
            "must be false",
        ),
        "readOnlyRootFilesystem": (
            context.get("readOnlyRootFilesystem") is not True,
            "must be true",
        ),
        "capabilities.drop": (capabilities.get("drop") != ["ALL"], "must be [ALL]"),
        "capabilities.add": (bool(capabilities.get("add")), "must be empty"),
    }
    for name, (is_broken, message) in broken.items():
        if is_broken:
            yield Finding(workload.ref, f"{where}.{name}", RESTRICTED, message)


@rule("drain")
def drain(objects: Objects) -> Iterator[Finding]:
    """A service pod's preStop sleep plus its shutdown grace and telemetry flush (its settings)
    fit in terminationGracePeriodSeconds, with at most GRACE_SPARE_SECONDS to spare."""
    for workload in workloads(objects, WORKLOAD_KINDS):
        grace = workload.pod_spec.get("terminationGracePeriodSeconds", 30)
        for field, container in _containers(workload):
            settings = settings_by_image().get(image_name(container.get("image", "")))
            if settings is None:
                continue
            pre_stop = container.get("lifecycle", {}).get("preStop", {})
            if "sleep" not in pre_stop:
                yield Finding(
                    workload.ref,
                    f"{field}.lifecycle.preStop.sleep",
                    "drain",
                    "missing: without it SIGTERM can arrive before endpoints are removed",
                )
                continue
            budget = drain_budget(
                settings, container_env(container, objects), float(pre_stop["sleep"]["seconds"])
            )
            needed = budget.needed_seconds
            if not needed <= grace <= needed + GRACE_SPARE_SECONDS:
                yield Finding(
                    workload.ref,
                    "spec.template.spec.terminationGracePeriodSeconds",
                    "drain",
                    f"is {grace}, but the drain needs {needed:g} s (preStop "
                    f"{budget.pre_stop_seconds:g} + shutdown grace "
                    f"{budget.shutdown_grace_seconds:g} + flush "
                    f"{budget.telemetry_flush_seconds:g}); allowed {needed:g}.."
                    f"{needed + GRACE_SPARE_SECONDS:g}",
                )


@rule("zero-downtime-rollout")
def zero_downtime_rollout(objects: Objects) -> Iterator[Finding]:
    """A service's Deployment replaces pods only once new ones are ready."""
    for workload in workloads(objects, frozenset({"Deployment"})):
        if not workload.runs_service():
            continue
        strategy = workload.obj["spec"].get("strategy", {})
        if strategy.get("type", "RollingUpdate") != "RollingUpdate" or (
            strategy.get("rollingUpdate", {}).get("maxUnavailable") != 0
        ):
            yield Finding(
                workload.ref,
                "spec.strategy.rollingUpdate.maxUnavailable",
                "zero-downtime-rollout",
                "must be 0 (RollingUpdate)",
            )


@rule("topology-spread")
def topology_spread(objects: Objects) -> Iterator[Finding]:
    """Every long-running workload spreads its pods over nodes, selecting its own pods."""
    for workload in workloads(objects, WORKLOAD_KINDS):
        constraints = workload.pod_spec.get("topologySpreadConstraints", [])
        if not constraints:
            yield Finding(
                workload.ref,
                "spec.template.spec.topologySpreadConstraints",
                "topology-spread",
                "missing",
            )
        for index, constraint in enumerate(constraints):
            if not selector_matches(constraint.get("labelSelector"), workload.pod_labels):
                yield Finding(
                    workload.ref,
                    f"spec.template.spec.topologySpreadConstraints[{index}].labelSelector",
                    "topology-spread",
                    "does not select the workload's own pods",
                )


@rule("disruption-budget")
def disruption_budget(objects: Objects) -> Iterator[Finding]:
    """Exactly one PodDisruptionBudget covers each long-running workload (two make evictions
    fail)."""
    budgets = [o for o in objects if o.get("kind") == "PodDisruptionBudget"]
    for workload in workloads(objects, WORKLOAD_KINDS):
        covering = [
            b for b in budgets if selector_matches(b["spec"].get("selector"), workload.pod_labels)
        ]
        if len(covering) != 1:
            names = ", ".join(object_name(b) for b in covering) or "none"
            yield Finding(
                workload.ref,
                "spec.template.metadata.labels",
                "disruption-budget",
                f"covered by {len(covering)} PodDisruptionBudgets ({names}); exactly 1 wanted",
            )


@rule("network-policy")
def network_policy(objects: Objects) -> Iterator[Finding]:
    """A default-deny policy for both directions, and every pod opened by a policy of its own."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    default_deny = [
        p
        for p in policies
        if p["spec"].get("podSelector") == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    namespaces = [o for o in objects if o.get("kind") == "Namespace"]
    if not default_deny:
        where = object_name(namespaces[0]) if namespaces else "(overlay)"
        yield Finding(where, "NetworkPolicy", "network-policy", "no default-deny policy")
    for workload in workloads(objects):
        own = [
            p
            for p in policies
            if p["spec"].get("podSelector")
            and selector_matches(p["spec"]["podSelector"], workload.pod_labels)
        ]
        if not own:
            yield Finding(
                workload.ref,
                "spec.template.metadata.labels",
                "network-policy",
                "no NetworkPolicy selects these pods: default deny leaves them no flow",
            )


@rule("migrations-job")
def migrations_job(objects: Objects) -> Iterator[Finding]:
    """Each service image that serves also migrates its database in a Job of its own."""
    jobs = workloads(objects, frozenset({"Job"}))
    migrating = {
        image_name(c.get("image", ""))
        for job in jobs
        for c in job.containers()
        if c.get("args", [])[:1] == ["migrate"]
    }
    for workload in workloads(objects, WORKLOAD_KINDS):
        for field, container in _containers(workload):
            image = image_name(container.get("image", ""))
            if image in service_images() and image not in migrating:
                yield Finding(
                    workload.ref,
                    f"{field}.image",
                    "migrations-job",
                    f"no Job runs `{image.split('/')[-1]}-service migrate` before the rollout",
                )


@rule("selectors")
def selectors(objects: Objects) -> Iterator[Finding]:
    """A workload's selector matches its template; every Service, budget and autoscaler finds
    what it points at."""
    pod_label_sets = [w.pod_labels for w in workloads(objects)]
    names = {(o.get("kind"), o["metadata"]["name"]) for o in objects}
    for workload in workloads(objects, WORKLOAD_KINDS):
        if not selector_matches(workload.obj["spec"].get("selector"), workload.pod_labels):
            yield Finding(
                workload.ref, "spec.selector", "selectors", "does not match the template's labels"
            )
    for obj in objects:
        kind, spec = obj.get("kind"), obj.get("spec", {})
        selector = _selector_of(obj)
        if selector is not None and not any(
            selector_matches(selector, pod) for pod in pod_label_sets
        ):
            yield Finding(object_name(obj), "spec.selector", "selectors", "selects no pod")
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = spec["scaleTargetRef"]
            wanted = (target.get("kind", "Deployment"), target["name"])
            if wanted not in names:
                yield Finding(
                    object_name(obj), "spec.scaleTargetRef", "selectors", f"no {'/'.join(wanted)}"
                )


def _selector_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod selector of a Service, budget or monitor (a Service's is bare matchLabels)."""
    spec = obj.get("spec", {})
    if obj.get("kind") == "Service":
        return {"matchLabels": spec["selector"]} if spec.get("selector") else None
    if obj.get("kind") in ("PodDisruptionBudget", "PodMonitor"):
        return dict(spec.get("selector", {}))
    return None


def _references(pod: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, name, field) of every ConfigMap, Secret and ServiceAccount a pod spec names."""
    if pod.get("serviceAccountName"):
        yield "ServiceAccount", pod["serviceAccountName"], "serviceAccountName"
    for index, volume in enumerate(pod.get("volumes", [])):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"], f"volumes[{index}].configMap.name"
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"], f"volumes[{index}].secret.secretName"
    for group in ("initContainers", "containers"):
        for container in pod.get(group, []):
            where = f"{group}[{container.get('name')}]"
            for source in container.get("envFrom", []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source and not source[key].get("optional"):
                        yield kind, source[key]["name"], f"{where}.envFrom.{key}.name"
            for variable in container.get("env", []):
                value_from = variable.get("valueFrom", {})
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in value_from and not value_from[key].get("optional"):
                        yield (
                            kind,
                            value_from[key]["name"],
                            f"{where}.env[{variable['name']}].valueFrom.{key}.name",
                        )


@rule("references")
def references(objects: Objects) -> Iterator[Finding]:
    """Every ConfigMap, Secret and ServiceAccount a pod names is rendered, or (Secrets) listed
    on the Namespace as provided by the platform."""
    present = {(o.get("kind"), o["metadata"]["name"]) for o in objects}
    external = {
        name.strip()
        for o in objects
        if o.get("kind") == "Namespace"
        for name in o["metadata"]
        .get("annotations", {})
        .get(EXTERNAL_SECRETS_ANNOTATION, "")
        .split(",")
        if name.strip()
    }
    for workload in workloads(objects):
        for kind, name, field in _references(workload.pod_spec):
            if (kind, name) in present or (kind == "Secret" and name in external):
                continue
            yield Finding(
                workload.ref,
                f"spec.template.spec.{field}",
                "references",
                f"{kind}/{name} is neither rendered nor listed in {EXTERNAL_SECRETS_ANNOTATION}",
            )


@rule("pinned-images")
def pinned_images(objects: Objects) -> Iterator[Finding]:
    """Every image has a tag (or digest) that is not `latest`."""
    for workload in workloads(objects):
        for field, container in _containers(workload):
            image = container.get("image", "")
            tag = image_tag(image)
            if tag is None or tag == "latest":
                yield Finding(
                    workload.ref, f"{field}.image", "pinned-images", f"{image!r} is not pinned"
                )
