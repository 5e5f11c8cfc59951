"""Each service's latency objective is the one its SLO rules measure against.

`latency_objective_seconds` decides which sampled-out requests or RPCs still write an access line
(observability.access_policy); the SLO rules count one slower than their bucket bound as bad. The
two must name the same threshold, so a change to one fails here until the other follows. Every
service in deploy/services.yaml is checked, those `make new-service` adds included (its settings
and its slo-<name>.rules.yml come from templates/service).
"""

from __future__ import annotations

import importlib
import re

import pytest
import yaml

from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import load_registry

ROOT = find_project_root()
RULES = ROOT / "deploy/compose/prometheus/rules"
_BUCKET_BOUND = re.compile(r'le="([^"]+)"')


def latency_sli_bounds(service: str) -> set[float]:
    """Every bucket bound the latency SLI rules of ``service`` compare against (any rules file)."""
    return {
        float(bound)
        for path in sorted(RULES.glob("*.rules.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if rule.get("labels") == {"service": service, "slo": "latency"} and "expr" in rule
        for bound in _BUCKET_BOUND.findall(rule["expr"])
    }


@pytest.mark.parametrize("service", sorted(load_registry(ROOT).services))
def test_the_latency_objective_is_the_slo_rules_bucket_bound(service: str) -> None:
    settings = importlib.import_module(f"{service}_service.settings").Settings
    objective = settings.model_fields["latency_objective_seconds"].default
    assert latency_sli_bounds(service) == {objective}
