"""The alerts the drills expect exist in the Prometheus rules, and one drill may expect several
(the backlog alert must fire while the SLO page stays silent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from threadline_chaos.catalogue import Drill, drills, find
from threadline_chaos.record import AlertExpectation
from threadline_native.paths import find_project_root

RULES = find_project_root() / "deploy" / "compose" / "prometheus" / "rules"


def _alert_rules() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(RULES.glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found[rule["alert"]] = rule
    return found


def test_every_expected_alert_is_defined_in_the_rules() -> None:
    defined = _alert_rules()
    expected = {e.alertname for d in drills() for e in d.alert_expectations}
    assert expected, "at least one drill expects an alert"
    assert expected <= set(defined), f"not in the rules: {expected - set(defined)}"


def test_pause_relay_expects_the_backlog_alert_to_fire_and_the_page_to_stay_silent() -> None:
    assert find("pause-relay").alert_expectations == [
        AlertExpectation(
            "OutboxBacklogStale", must_fire=True, fire_within_s=60, resolve_within_s=90
        ),
        AlertExpectation("SLOErrorBudgetBurnFast", must_fire=False),
    ]


def test_the_backlog_alert_can_fire_within_the_freeze() -> None:
    """Over 15 s old, for 15 s, plus a scrape and an evaluation (5 s each) and Alertmanager's
    group wait (5 s): 45 s, inside the 60 s the drill allows."""
    rule = _alert_rules()["OutboxBacklogStale"]
    assert rule["expr"].endswith("> 15")
    assert rule["for"] == "15s"
    assert rule["annotations"]["runbook_url"] == "docs/runbooks/outbox-backlog.md"
    assert (find_project_root() / rule["annotations"]["runbook_url"]).is_file()
    expectation = find("pause-relay").alert_expectations[0]
    assert expectation.fire_within_s is not None
    assert expectation.fire_within_s >= 15 + 15 + 5 + 5 + 5


def test_one_expected_alert_as_a_mapping_still_reads(tmp_path: Path) -> None:
    drill = Drill(
        name="one",
        path=tmp_path / "one.yaml",
        experiment={
            "title": "t",
            "extensions": [
                {"name": "threadline", "expected_alert": {"alertname": "A", "must_fire": False}}
            ],
        },
    )
    assert drill.alert_expectations == [AlertExpectation("A", must_fire=False)]
