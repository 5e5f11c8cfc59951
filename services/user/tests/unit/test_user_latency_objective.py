"""The user service's latency objective is the one its SLO rules measure against.

`latency_objective_seconds` decides which sampled-out requests still write an access line
(observability.access_policy); the SLO rules count a request slower than their bucket bound as
bad. The two must name the same threshold, so a change to one fails here until the other
follows.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from user_service.settings import Settings

RULES = Path(__file__).resolve().parents[4] / "deploy/compose/prometheus/rules/slo.rules.yml"
_BUCKET_BOUND = re.compile(r'le="([^"]+)"')


def latency_sli_bounds(service: str) -> set[float]:
    """Every bucket bound the latency SLI rules of ``service`` compare against."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        float(bound)
        for group in groups
        for rule in group["rules"]
        if rule.get("labels") == {"service": service, "slo": "latency"} and "expr" in rule
        for bound in _BUCKET_BOUND.findall(rule["expr"])
    }


def test_the_latency_objective_is_the_slo_rules_bucket_bound() -> None:
    objective = Settings.model_fields["latency_objective_seconds"].default
    assert latency_sli_bounds("user") == {objective}
