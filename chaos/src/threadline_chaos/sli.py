"""The SLIs of the SLO rules as PromQL, over any window.

The recording rules (deploy/compose/prometheus/rules/slo.rules.yml) are the one definition of
each SLI. A drill judges its steady state over a window far shorter than their shortest (5m): a
5-minute ratio still holds a 20-second outage for 5 minutes, so recovery could never be seen
within a drill. The short-window SLI is the recorded rule's expression with its range swapped.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from threadline_native.paths import find_project_root

RECORDED_RULE = "slo:sli_error:ratio_rate5m"
RECORDED_WINDOW = "5m"
_RANGE = re.compile(r"\[5m\]")
_WINDOW = re.compile(r"^\d+[smh]$")


class UnknownSliError(ValueError):
    """No SLO recording rule for this (service, slo)."""


def rules_file(root: Path | None = None) -> Path:
    return (root or find_project_root()) / "deploy/compose/prometheus/rules/slo.rules.yml"


@cache
def _recorded_expressions(path: Path) -> dict[tuple[str, str], str]:
    document = yaml.safe_load(path.read_text())
    found: dict[tuple[str, str], str] = {}
    for group in document["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == RECORDED_RULE:
                labels = rule.get("labels", {})
                found[(labels["service"], labels["slo"])] = " ".join(rule["expr"].split())
    return found


def sli_error_ratio_expr(
    service: str, slo: str, window: str = "30s", *, root: Path | None = None
) -> str:
    """PromQL for the share of bad events of (service, slo) over window, from the SLO rules."""
    if not _WINDOW.match(window):
        raise ValueError(f"window {window!r} is not a PromQL duration like 30s, 2m or 1h")
    expressions = _recorded_expressions(rules_file(root))
    if (service, slo) not in expressions:
        known = ", ".join(f"{s}/{o}" for s, o in sorted(expressions))
        raise UnknownSliError(f"no SLO rule for {service}/{slo}; known: {known}")
    if window == RECORDED_WINDOW:
        return f'{RECORDED_RULE}{{service="{service}",slo="{slo}"}}'
    return _RANGE.sub(f"[{window}]", expressions[(service, slo)])


def known_slis(*, root: Path | None = None) -> list[tuple[str, str]]:
    """Every (service, slo) the rules define."""
    return sorted(_recorded_expressions(rules_file(root)))
