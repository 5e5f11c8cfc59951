"""The drills: chaos/experiments/*.yaml, one Chaos Toolkit experiment each, and what we add.

Each experiment carries an `extensions` entry named `threadline` with what the verdict needs and
Chaos Toolkit does not know about:

    extensions:
      - name: threadline
        recovery_bound_seconds: 60         # SLIs back within this after the fault is undone
        expected_alert: null               # or {alertname, must_fire, fire_within_s,
                                           #     resolve_within_s} (record.AlertExpectation),
                                           # or a list of them
        reconcile: true                    # compare orders DB, orders.v1 and user statistics
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

from threadline_chaos.record import AlertExpectation
from threadline_native.paths import find_project_root

EXTENSION = "threadline"


class DrillError(Exception):
    """A drill that cannot run as asked (unknown, invalid); the message says what to do."""


def experiments_dir(root: Path | None = None) -> Path:
    return (root or find_project_root()) / "chaos" / "experiments"


@dataclass(frozen=True)
class Drill:
    name: str
    path: Path
    experiment: dict[str, Any]

    @property
    def hypothesis(self) -> str:
        return str(self.experiment["title"])

    @property
    def settings(self) -> dict[str, Any]:
        for extension in self.experiment.get("extensions", []):
            if extension.get("name") == EXTENSION:
                return dict(extension)
        return {}

    @property
    def recovery_bound_seconds(self) -> float:
        return float(self.settings.get("recovery_bound_seconds", 60))

    @property
    def reconcile(self) -> bool:
        return bool(self.settings.get("reconcile", True))

    @property
    def alert_expectations(self) -> list[AlertExpectation]:
        expected = self.settings.get("expected_alert") or []
        # One alert or several (one that must fire, another that must stay silent).
        entries = expected if isinstance(expected, list) else [expected]
        return [AlertExpectation(**entry) for entry in entries]


def load_drill(path: Path) -> Drill:
    """Read one experiment file (no validation)."""
    try:
        experiment = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DrillError(f"{path.name} cannot be read: {error}") from error
    if not isinstance(experiment, dict) or "title" not in experiment:
        raise DrillError(f"{path.name} is not a Chaos Toolkit experiment (no title)")
    return Drill(name=path.stem, path=path, experiment=experiment)


def drills(root: Path | None = None) -> list[Drill]:
    """Every drill of the catalogue, by name."""
    return [load_drill(path) for path in sorted(experiments_dir(root).glob("*.yaml"))]


def find(name: str, root: Path | None = None) -> Drill:
    path = experiments_dir(root) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(d.name for d in drills(root))
        raise DrillError(f"unknown drill {name!r}; `make chaos` lists them: {known}")
    return load_drill(path)


def validate(drill: Drill) -> None:
    """Chaos Toolkit's own validation: schema, every provider importable with matching arguments."""
    try:
        ensure_experiment_is_valid(drill.experiment)
    except ChaosException as error:
        raise DrillError(f"{drill.path.name} does not validate: {error}") from error
