"""`make new-service` proved on a copy of the repository: one service of each kind is generated,
registered everywhere, passes its own unit, integration and e2e tests and the lint, and
`make remove-service` then leaves the copy byte for byte as it was.

The copy is the working tree's files (tracked and not ignored) in a scratch git repository; its
virtual environment is made by `uv sync` from the shared uv cache (seconds, no download).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from threadline_native.paths import find_project_root

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

# Names no fork is likely to have generated already: the proof runs in forks' `make test` too,
# with their own services (the README's `payment` among them) in the tree.
SERVICES = (("scaffoldhttp", "http"), ("scaffoldgrpc", "grpc"))


def git(copy: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=copy, capture_output=True, text=True, check=True)
    return result.stdout


def uv() -> str:
    root = find_project_root()
    cached = root / ".threadline" / "cache" / "uv" / "bin" / "uv"
    return os.environ.get("UV") or (str(cached) if cached.exists() else shutil.which("uv") or "uv")


def copy_of_the_repository(target: Path) -> Path:
    root = find_project_root()
    # The working tree as the rest of `make test` sees it: tracked files and new ones not
    # ignored (a clone has exactly the tracked ones).
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    )
    listed = tracked.stdout.decode().split("\0")
    for name in filter(None, listed):
        source = root / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    # ../shared beside the copy as beside the repository (the compose schema lives there).
    shared = root.parent / "shared"
    if shared.is_dir() and not (target.parent / "shared").exists():
        (target.parent / "shared").symlink_to(shared)
    share_built_tools(root, target)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "copy")
    return target


def share_built_tools(root: Path, target: Path) -> None:
    """The Go tools built once under .threadline/cache/bin (kustomize, promtool, amtool...),
    linked into the copy's cache (git-ignored there too): its checks use them, not rebuilds."""
    built = root / ".threadline" / "cache" / "bin"
    if not built.is_dir():
        return
    linked = target / ".threadline" / "cache" / "bin"
    linked.mkdir(parents=True)
    for tool in built.iterdir():
        (linked / tool.name).symlink_to(tool)


def in_copy(copy: Path, *argv: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "THREADLINE_ROOT": str(copy), "UV": uv()}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        argv, cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def scaffold(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return in_copy(copy, sys.executable, "-m", "threadline_native.scaffold", *args)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, float]]]:
    copy = copy_of_the_repository(tmp_path_factory.mktemp("repository"))
    timings: dict[str, float] = {}
    started = time.monotonic()
    for name, kind in SERVICES:
        made = scaffold(copy, "new", name, "--kind", kind)
        assert made.returncode == 0, made.stdout + made.stderr
    timings["generate both"] = time.monotonic() - started
    yield copy, timings
    print("new-service proof timings:", {k: round(v, 1) for k, v in timings.items()})


def assert_registered_in_k8s(copy: Path, name: str) -> None:
    """deploy/k8s: its manifests, its entries in the kustomizations, its SLO rules' ConfigMap."""
    k8s = copy / "deploy/k8s"
    base = yaml.safe_load((k8s / "base/kustomization.yaml").read_text())
    dev = yaml.safe_load((k8s / "overlays/dev/kustomization.yaml").read_text())
    prod = yaml.safe_load((k8s / "overlays/prod/kustomization.yaml").read_text())
    namespace = yaml.safe_load((k8s / "overlays/prod/namespace-secrets.yaml").read_text())
    rules = yaml.safe_load((copy / "deploy/compose/kustomization.yaml").read_text())
    kinds = {d["kind"] for d in yaml.safe_load_all((k8s / f"base/{name}.yaml").read_text())}
    assert {"Deployment", "Service", "Job", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    assert f"{name}.yaml" in base["resources"]
    assert {"name": f"threadline/{name}", "newTag": "0.1.0"} in base["images"]
    assert f"{name}-settings" in [g["name"] for g in base["configMapGenerator"]]
    assert f"{name}-settings" in [g["name"] for g in dev["configMapGenerator"]]
    assert f"{name}-secrets" in [g["name"] for g in dev["secretGenerator"]]
    assert f"{name}.yaml" in prod["resources"]
    monitor = yaml.safe_load((k8s / f"overlays/prod/{name}.yaml").read_text())
    assert monitor["kind"] == "PodMonitor"
    provided = namespace["metadata"]["annotations"]["threadline.dev/external-secrets"]
    assert f"{name}-secrets" in provided.split(",")
    rule_files = next(g for g in rules["configMapGenerator"] if g["name"] == "prometheus-rules")
    assert f"slo-{name}.rules.yml=prometheus/rules/slo-{name}.rules.yml" in rule_files["files"]


def test_every_registration_point_names_the_new_services(
    generated: tuple[Path, dict[str, float]],
) -> None:
    copy, _ = generated
    registry = yaml.safe_load((copy / "deploy/services.yaml").read_text())["services"]
    compose = yaml.safe_load((copy / "deploy/compose/compose.yaml").read_text())["services"]
    jobs = yaml.safe_load((copy / "deploy/compose/prometheus/prometheus.yml").read_text())
    dashboard = json.loads(
        (copy / "deploy/compose/grafana/dashboards/service-red.json").read_text()
    )
    pyproject = (copy / "pyproject.toml").read_text()
    readme, lock = (copy / "README.md").read_text(), (copy / "uv.lock").read_text()
    ports = [p for entry in registry.values() for p in (entry["port"], entry["admin_port"])]
    assert len(ports) == len(set(ports))
    titles = [panel["title"] for panel in dashboard["panels"]]
    for name, kind in SERVICES:
        entry = registry[name]
        assert entry["kind"] == kind
        service = compose[name]
        assert service["mem_limit"]
        assert "readyz" in " ".join(service["healthcheck"]["test"])
        assert f"{entry['admin_port']}" in " ".join(service["ports"])
        job = next(j for j in jobs["scrape_configs"] if j["job_name"] == name)
        assert job["static_configs"][0]["targets"] == [f"{name}:{entry['admin_port']}"]
        assert sum(title.endswith(f"({name})") or f"({name})" in title for title in titles) == 3
        assert f"{name}-service = {{ workspace = true }}" in pyproject
        assert f'"{name}_service"' in pyproject
        assert f'"services/{name}/src"' in pyproject
        assert f'name = "{name}-service"' in lock
        assert f"| {name} service (" in readme
        rules = copy / "deploy/compose/prometheus/rules"
        assert (rules / f"slo-{name}.rules.yml").is_file()
        assert (rules / f"slo-{name}.test.yml").is_file()
        assert_registered_in_k8s(copy, name)
        answers = yaml.safe_load((copy / f"services/{name}/.copier-answers.yml").read_text())
        assert answers["_src_path"] == "templates/service"
    grpc_name = next(name for name, kind in SERVICES if kind == "grpc")
    contracts = copy / "libs/contracts/src/threadline_contracts"
    assert (contracts / grpc_name / "v1" / f"{grpc_name}_pb2.py").is_file()
    names = [name for name, _ in SERVICES]
    generated_count = len([n for n in registry if n not in ("user", "order")])
    admin = registry[names[0]]["admin_port"]
    # The native stack and make verify read the registry.
    listed = in_copy(
        copy,
        uv(),
        "run",
        "--all-packages",
        "--locked",
        "python",
        "-c",
        "from threadline_native.components import ALL; "
        "from threadline_native.verify.generated import latency_histograms; "
        "from threadline_native.localconfig import localize; "
        "from pathlib import Path; "
        "from threadline_k8s.dockerfile_rules import Dockerfile, check_dockerfile; "
        "print([c.name for c in ALL][-2:], len(latency_histograms()), "
        f"localize('{names[0]}:{admin}'), "
        "[check_dockerfile(Dockerfile.read(Path(f'services/{n}/Dockerfile'))) "
        f"for n in {names!r}])",
    )
    assert listed.returncode == 0, listed.stderr
    # The Dockerfiles keep the image rules the two services' keep (deploy/k8s).
    expected = f"{names} {generated_count} 127.0.0.1:{admin} [[], []]"
    assert listed.stdout.strip() == expected


def test_the_new_services_pass_their_tests_and_the_lint(
    generated: tuple[Path, dict[str, float]],
) -> None:
    copy, timings = generated
    paths = [f"services/{name}" for name, _ in SERVICES]
    started = time.monotonic()
    tests = in_copy(
        copy,
        uv(),
        "run",
        "--all-packages",
        "--locked",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *paths,
        # The registration points' own checks: the SLO rules with promtool and against each
        # service's latency objective, compose's schema, the stack's ports, both modes'
        # configs, the dashboards' queries, the contracts.
        "deploy/native/tests/unit/test_obs_slo_rules.py",
        "deploy/native/tests/unit/test_latency_objectives_match_slo_rules.py",
        "deploy/native/tests/unit/test_obs_compose_schema.py",
        "deploy/native/tests/unit/test_obs_stack_ports.py",
        "deploy/native/tests/unit/test_modes_share_config.py",
        "deploy/native/tests/unit/test_obs_grafana_provisioning.py",
        "deploy/native/tests/unit/test_grafana_promql_reads_series_the_native_stack_produces.py",
        "libs/contracts",
        # deploy/k8s: the generated services' network flows (exactly theirs) and image tags.
        "deploy/k8s/tests/unit/test_k8s_network_flows.py",
        "deploy/k8s/tests/unit/test_dockerfile_rules.py",
    )
    timings["tests (unit, integration, e2e)"] = time.monotonic() - started
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-2000:]
    started = time.monotonic()
    for argv in (
        ("ruff", "check", *paths),
        ("ruff", "format", "--check", *paths),
        ("mypy", *paths),
    ):
        lint = in_copy(copy, uv(), "run", "--all-packages", "--locked", *argv)
        assert lint.returncode == 0, " ".join(argv) + "\n" + lint.stdout[-4000:] + lint.stderr
    timings["lint (ruff, mypy)"] = time.monotonic() - started


def test_k8s_validate_passes_with_the_new_services(
    generated: tuple[Path, dict[str, float]],
) -> None:
    """`make k8s-validate` in the copy: both overlays render, every object passes the schemas
    and all policy rules, the generated services' Deployments, Jobs and policies included."""
    copy, timings = generated
    started = time.monotonic()
    validate = in_copy(
        copy, uv(), "run", "--all-packages", "--locked", "python", "-m", "threadline_k8s.cli"
    )
    timings["k8s-validate"] = time.monotonic() - started
    assert validate.returncode == 0, validate.stdout[-4000:] + validate.stderr[-2000:]
    # Both overlays, with the generated services in them (test_k8s_network_flows, run in the
    # copy above, finds each one's pods and flows in the rendered dev overlay).
    for overlay in ("dev", "prod"):
        assert f"{overlay}: rendered" in validate.stdout


def test_remove_service_leaves_the_tree_byte_for_byte_as_it_was(
    generated: tuple[Path, dict[str, float]],
) -> None:
    copy, _ = generated
    for name, _kind in reversed(SERVICES):
        removed = scaffold(copy, "remove", name)
        assert removed.returncode == 0, removed.stdout + removed.stderr
    assert git(copy, "status", "--porcelain") == ""
    assert git(copy, "diff", "--stat") == ""
