"""A generated service's latency objective is its kind's, and its SLO rules measure against it.

The template sets `latency_objective_seconds` by kind like the service of that kind the project
ships (http like user, 0.25 s; grpc like order, 0.5 s), and renders the same value as the bucket
bound of its latency SLI and of the promtool test's fast series.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from order_service.settings import Settings as OrderSettings
from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import load_registry
from threadline_native.scaffold.render import render
from threadline_native.scaffold.spec import Kind, make_spec
from user_service.settings import Settings as UserSettings

TWIN_OBJECTIVES: dict[Kind, float] = {
    "http": UserSettings.model_fields["latency_objective_seconds"].default,
    "grpc": OrderSettings.model_fields["latency_objective_seconds"].default,
}
_BUCKET_BOUND = re.compile(r'le="([^"]+)"')


def settings_default(settings_py: Path, field: str) -> float:
    """The ``default=`` of ``field: ... = Field(default=...)`` in the rendered settings module."""
    for node in ast.walk(ast.parse(settings_py.read_text())):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == field
            and isinstance(node.value, ast.Call)
        ):
            (default,) = (k.value for k in node.value.keywords if k.arg == "default")
            return float(ast.literal_eval(default))
    raise AssertionError(f"{settings_py.name} does not set {field}")


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_the_generated_latency_objective_is_its_kinds_and_its_rules_bound(
    kind: Kind, tmp_path: Path
) -> None:
    root = find_project_root()
    # Free ports and a name no fork is likely to have generated (this runs in forks too).
    spec = make_spec(root, load_registry(root), name="scaffoldprobe", kind=kind)
    render(root, spec, tmp_path)

    objective = settings_default(
        tmp_path / "services/scaffoldprobe/src/scaffoldprobe_service/settings.py",
        "latency_objective_seconds",
    )
    rules = tmp_path / "deploy/compose/prometheus/rules"
    groups = yaml.safe_load((rules / "slo-scaffoldprobe.rules.yml").read_text())["groups"]
    latency_bounds = {
        float(bound)
        for group in groups
        for rule in group["rules"]
        if rule.get("labels") == {"service": "scaffoldprobe", "slo": "latency"} and "expr" in rule
        for bound in _BUCKET_BOUND.findall(rule["expr"])
    }
    promtool_bounds = set(_BUCKET_BOUND.findall((rules / "slo-scaffoldprobe.test.yml").read_text()))

    assert objective == TWIN_OBJECTIVES[kind]
    assert latency_bounds == {objective}
    assert {float(bound) for bound in promtool_bounds} == {objective}
