"""Every shared file a new service is registered in, each edit a structural one and reversible.

Each registration anchors on the file's structure (a TOML table, a YAML mapping or list, a JSON
panel list, the README's table row of the order service), never on line numbers, so it holds
while other work changes those files. `remove` undoes exactly what `add` did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from ruamel.yaml.comments import CommentedMap, merge_attrib

from threadline_native.scaffold import k8s, yaml_files
from threadline_native.scaffold.registry import REGISTRY_FILE
from threadline_native.scaffold.spec import ServiceSpec
from threadline_native.scaffold.transaction import FileTransaction

PYPROJECT = Path("pyproject.toml")
COMPOSE = Path("deploy/compose/compose.yaml")
PROMETHEUS = Path("deploy/compose/prometheus/prometheus.yml")
DASHBOARD = Path("deploy/compose/grafana/dashboards/service-red.json")
README = Path("README.md")
# The README's row after which generated services are listed (one row each).
README_ANCHOR = "| order service (grpc.aio) |"


class RegistrationError(RuntimeError):
    """A shared file is not shaped the way a registration needs."""


@dataclass(frozen=True)
class Registration:
    what: str
    path: Path
    add: Callable[[Path, ServiceSpec], None]
    remove: Callable[[Path, ServiceSpec], None]


# --- deploy/services.yaml --------------------------------------------------------------------
def _registry_add(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    data["services"][spec.name] = yaml_files.parse(
        f"{{kind: {spec.kind}, port: {spec.port}, admin_port: {spec.admin_port}}}"
    )
    yaml_files.dump(data, path)


def _registry_remove(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    data["services"].pop(spec.name, None)
    yaml_files.dump(data, path)


# --- pyproject.toml: the workspace source, ruff's first-party list, mypy's path ---------------
def _workspace_lists(doc: Any) -> tuple[Any, Any, Any]:
    tool = doc["tool"]
    return (
        tool["uv"]["sources"],
        tool["ruff"]["lint"]["isort"]["known-first-party"],
        tool["mypy"]["mypy_path"],
    )


def _workspace_add(path: Path, spec: ServiceSpec) -> None:
    doc = tomlkit.parse(path.read_text())
    sources, first_party, mypy_path = _workspace_lists(doc)
    # Written as the other members' entries are: `{ workspace = true }` and a line end.
    sources[spec.distribution] = tomlkit.parse("entry = { workspace = true }\n")["entry"]
    first_party.append(spec.package)
    mypy_path.append(f"{spec.directory}/src")
    path.write_text(tomlkit.dumps(doc))


def _workspace_remove(path: Path, spec: ServiceSpec) -> None:
    doc = tomlkit.parse(path.read_text())
    sources, first_party, mypy_path = _workspace_lists(doc)
    sources.pop(spec.distribution, None)
    if spec.package in first_party:
        first_party.remove(spec.package)
    if f"{spec.directory}/src" in mypy_path:
        mypy_path.remove(f"{spec.directory}/src")
    path.write_text(tomlkit.dumps(doc))


# --- compose: the service, with healthcheck, memory limit and the admin token ----------------
def compose_entry(spec: ServiceSpec) -> str:
    prefix, command = spec.name.upper(), spec.distribution
    readyz = (
        "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen("
        f"'http://127.0.0.1:{spec.admin_port}/readyz', timeout=2).status == 200 else 1)"
    )
    return f"""\
build:
  context: ../..
  dockerfile: {spec.directory}/Dockerfile
image: threadline/{spec.name}:dev
# Migrations (they create the database when missing) run before the server starts.
entrypoint: ["sh", "-c", "{command} migrate && exec {command} serve"]
environment:
  {prefix}_HOST: 0.0.0.0
  {prefix}_DATABASE_URL: postgresql+asyncpg://threadline:threadline@postgres:5432/{spec.name}
  OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317
  {prefix}_ADMIN_TOKEN_FILE: /run/secrets/admin-token
ports: ["127.0.0.1:{spec.port}:{spec.port}", "127.0.0.1:{spec.admin_port}:{spec.admin_port}"]
volumes:
  - ${{THREADLINE_ADMIN_TOKEN_FILE:-./admin-token.empty}}:/run/secrets/admin-token:ro
healthcheck:
  test: ["CMD", "python", "-c", "{readyz}"]
  interval: 5s
  timeout: 3s
  retries: 20
  start_period: 10s
# The image's user (uid 10001); SIGTERM drains in-flight work within 20 s.
user: "10001:10001"
stop_grace_period: 30s
mem_limit: 256m
depends_on:
  postgres: {{condition: service_healthy}}
  otel-collector: {{condition: service_healthy}}
"""


def _compose_add(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    services = data["services"]
    entry: CommentedMap = yaml_files.parse(compose_entry(spec))
    # The same `<<: *hardening` merge the other services have.
    merged = next(
        (getattr(s, merge_attrib) for s in services.values() if hasattr(s, merge_attrib)), None
    )
    if merged is None:
        raise RegistrationError(f"{path}: no service merges the x-hardening block")
    setattr(entry, merge_attrib, merged)
    services[spec.name] = entry
    services.yaml_set_comment_before_after_key(
        spec.name, before=f"--- Threadline {spec.name} service (make new-service) ---", indent=2
    )
    yaml_files.dump(data, path)


def _compose_remove(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    data["services"].pop(spec.name, None)
    yaml_files.dump(data, path)


# --- Prometheus: a scrape job for the admin port, next to the other services' ---------------
def _scrape_job(spec: ServiceSpec) -> Any:
    return yaml_files.parse(f"""\
job_name: {spec.name}
scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
authorization:
  type: Bearer
  credentials_file: /etc/prometheus/secrets/admin-token
static_configs:
  - targets: ["{spec.name}:{spec.admin_port}"]
    labels: {{service: {spec.name}}}
""")


def _is_service_job(job: Any) -> bool:
    return any("service" in (group.get("labels") or {}) for group in job.get("static_configs", []))


def _prometheus_add(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    jobs = data["scrape_configs"]
    services = [i for i, job in enumerate(jobs) if _is_service_job(job)]
    if not services:
        raise RegistrationError(f"{path}: no service scrape job to add {spec.name}'s after")
    jobs.insert(services[-1] + 1, _scrape_job(spec))
    yaml_files.dump(data, path)


def _prometheus_remove(path: Path, spec: ServiceSpec) -> None:
    data = yaml_files.load(path)
    jobs = data["scrape_configs"]
    for index, job in enumerate(jobs):
        if job.get("job_name") == spec.name:
            del jobs[index]
            break
    yaml_files.dump(data, path)


# --- Grafana: a RED row on the services dashboard --------------------------------------------
def red_panels(spec: ServiceSpec, first_id: int, top: int) -> list[dict[str, Any]]:
    """Three panels under the others: rate, error ratio, latency quantiles (with exemplars).

    No row panel: the dashboard's check holds every panel to a query (test_obs_grafana_*).
    """
    name, prom = spec.name, {"type": "prometheus", "uid": "prometheus"}
    if spec.kind == "http":
        count, bucket = (
            "http_server_request_duration_seconds_count",
            ("http_server_request_duration_seconds_bucket"),
        )
        by, bad, unit = "route, method", 'status_class="5xx"', "HTTP"
    else:
        count, bucket = "grpc_server_handling_seconds_count", "grpc_server_handling_seconds_bucket"
        bad = 'grpc_code=~"Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded|Unimplemented"'
        by, unit = "grpc_method, grpc_code", "gRPC"
    selector = f'{{service="{name}"}}'
    error_selector = f'{{service="{name}",{bad}}}'

    def panel(offset: int, title: str, grid: dict[str, int], targets: list[str]) -> dict[str, Any]:
        return {
            "id": first_id + offset,
            "type": "timeseries",
            "title": title,
            "datasource": prom,
            "gridPos": grid,
            "targets": [
                {"refId": chr(ord("A") + i), "expr": expr, "exemplar": True, "datasource": prom}
                for i, expr in enumerate(targets)
            ],
        }

    quantiles = [
        f"histogram_quantile({q}, sum by (le) (rate({bucket}{selector}[1m])))"
        for q in ("0.5", "0.95", "0.99")
    ]
    return [
        panel(
            1,
            f"{unit} request rate ({name})",
            {"h": 8, "w": 12, "x": 0, "y": top},
            [f"sum by ({by}) (rate({count}{selector}[1m]))"],
        ),
        panel(
            2,
            f"{unit} error ratio ({name})",
            {"h": 8, "w": 12, "x": 12, "y": top},
            [
                f"(sum(rate({count}{error_selector}[1m])) or vector(0)) "
                f"/ sum(rate({count}{selector}[1m]))"
            ],
        ),
        panel(
            3,
            f"{unit} latency p50/p95/p99 ({name}) — exemplars link to traces",
            {"h": 8, "w": 24, "x": 0, "y": top + 8},
            quantiles,
        ),
    ]


def _dump_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _dashboard_add(path: Path, spec: ServiceSpec) -> None:
    data = json.loads(path.read_text())
    panels = data["panels"]
    first_id = max((p.get("id", 0) for p in panels), default=0) + 1
    top = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=0)
    panels.extend(red_panels(spec, first_id, top))
    _dump_json(data, path)


def _dashboard_remove(path: Path, spec: ServiceSpec) -> None:
    data = json.loads(path.read_text())
    suffixes = (f"({spec.name})", f"({spec.name}) — exemplars link to traces")
    data["panels"] = [p for p in data["panels"] if not p.get("title", "").endswith(suffixes)]
    _dump_json(data, path)


# --- README: a row in "What `make up` starts" -------------------------------------------------
def readme_row(spec: ServiceSpec) -> str:
    scheme, edge = ("http", "FastAPI") if spec.kind == "http" else ("", "grpc.aio")
    address = f"{scheme}://127.0.0.1:{spec.port}" if scheme else f"127.0.0.1:{spec.port}"
    return (
        f"| {spec.name} service ({edge}, generated) | `{address}`, admin `:{spec.admin_port}` "
        f"| `{spec.directory}/README.md` |\n"
    )


def _readme_add(path: Path, spec: ServiceSpec) -> None:
    lines = path.read_text().splitlines(keepends=True)
    anchors = [i for i, line in enumerate(lines) if line.startswith(README_ANCHOR)]
    if not anchors:
        raise RegistrationError(f"{path}: no row starting with {README_ANCHOR!r}")
    at = anchors[0] + 1
    # After the generated rows already there, so they stay in the order they were made.
    while at < len(lines) and "generated) |" in lines[at]:
        at += 1
    lines.insert(at, readme_row(spec))
    path.write_text("".join(lines))


def _readme_remove(path: Path, spec: ServiceSpec) -> None:
    row = readme_row(spec)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if line != row))


# deploy/k8s is registered by threadline_native.scaffold.k8s (entries in several kustomizations;
# the manifests themselves are template files). Not registered yet (a hook a later registration
# fills in here): the chaos drills (chaos/experiments).
K8S = "Kubernetes kustomizations (deploy/k8s base and overlays, the SLO rules ConfigMap)"
REGISTRATIONS: tuple[Registration, ...] = (
    Registration("service registry (ports)", REGISTRY_FILE, _registry_add, _registry_remove),
    Registration("uv workspace, ruff, mypy", PYPROJECT, _workspace_add, _workspace_remove),
    Registration("compose service", COMPOSE, _compose_add, _compose_remove),
    Registration("Prometheus scrape job", PROMETHEUS, _prometheus_add, _prometheus_remove),
    Registration("RED row on the services dashboard", DASHBOARD, _dashboard_add, _dashboard_remove),
    Registration("README table", README, _readme_add, _readme_remove),
)


def register(tx: FileTransaction, spec: ServiceSpec) -> list[str]:
    """Apply every registration inside ``tx``; the names of what was registered."""
    for registration in REGISTRATIONS:
        registration.add(tx.touch(registration.path), spec)
    k8s.register(tx.root, spec, tx.touch)
    return [*(registration.what for registration in REGISTRATIONS), K8S]


def unregister(tx: FileTransaction, spec: ServiceSpec) -> None:
    k8s.unregister(tx.root, spec, tx.touch)
    for registration in reversed(REGISTRATIONS):
        registration.remove(tx.touch(registration.path), spec)
