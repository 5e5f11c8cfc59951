"""Every drill is a valid Chaos Toolkit experiment, judged by chaostoolkit-lib's own validator
(schema, every control, every Python provider importable with arguments its function takes),
and carries what a Threadline drill must: a hypothesis, rollbacks always, the drill control,
a guard, a recovery wait bounded like the verdict, and an undo for each fault it injects."""

from __future__ import annotations

import copy
import inspect
from importlib import import_module
from typing import Any

import pytest
from chaoslib.exceptions import InvalidActivity, InvalidExperiment
from chaoslib.experiment import ensure_experiment_is_valid

from threadline_chaos import gameday
from threadline_chaos.catalogue import Drill, DrillError, drills, find, validate

CATALOGUE = drills()
INJECTING = {
    "signal_component",
    "pause_component",
    "stop_component",
    "add_toxic",
    "set_fault_flag",
}
UNDOING = {"start_component", "resume_component", "remove_toxic", "clear_fault_flags"}


def _providers(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    activities = [
        *experiment.get("steady-state-hypothesis", {}).get("probes", []),
        *experiment.get("method", []),
        *experiment.get("rollbacks", []),
    ]
    for control in experiment.get("controls", []):
        activities += control["provider"].get("arguments", {}).get("probes", [])
    return [a["provider"] for a in activities]


def test_the_catalogue_covers_every_fault_family() -> None:
    funcs = {
        (p["module"].rsplit(".", 1)[-1], p["func"])
        for d in CATALOGUE
        for p in _providers(d.experiment)
    }
    assert ("process_faults", "signal_component") in funcs
    assert ("process_faults", "pause_component") in funcs
    assert ("process_faults", "stop_component") in funcs
    assert ("network_faults", "add_toxic") in funcs
    assert ("flag_faults", "set_fault_flag") in funcs
    toxic_types = {
        p["arguments"]["toxic_type"]
        for d in CATALOGUE
        for p in _providers(d.experiment)
        if p["func"] == "add_toxic"
    }
    assert toxic_types >= {"latency", "timeout", "reset_peer", "bandwidth", "slow_close"}


@pytest.mark.parametrize("drill", CATALOGUE, ids=lambda d: d.name)
def test_drill_validates_with_chaostoolkit(drill: Drill) -> None:
    validate(drill)


@pytest.mark.parametrize("drill", CATALOGUE, ids=lambda d: d.name)
def test_every_python_provider_exists_with_matching_signature(drill: Drill) -> None:
    for provider in _providers(drill.experiment):
        function = getattr(import_module(provider["module"]), provider["func"])
        inspect.signature(function).bind(**provider.get("arguments", {}))


@pytest.mark.parametrize("drill", CATALOGUE, ids=lambda d: d.name)
def test_drill_has_hypothesis_guard_rollbacks_and_bounded_recovery(drill: Drill) -> None:
    experiment = drill.experiment
    assert experiment["title"]
    assert experiment["description"]
    assert experiment["runtime"]["rollbacks"]["strategy"] == "always"
    controls = {c["provider"]["module"] for c in experiment["controls"]}
    assert controls == {"threadline_chaos.controls.drill", "chaosaddons.controls.safeguards"}
    recovery = [a for a in experiment["method"] if a["provider"].get("func") == "await_recovery"]
    assert len(recovery) == 1
    assert recovery[0]["provider"]["arguments"]["bound_seconds"] == drill.recovery_bound_seconds
    injected = [a["provider"]["func"] for a in experiment["method"]]
    undone = [a["provider"]["func"] for a in experiment["rollbacks"]]
    assert INJECTING & set(injected), "a drill injects a fault"
    assert UNDOING & set(undone), "its rollbacks undo it"


def test_an_argument_the_function_does_not_take_fails_validation() -> None:
    """The validator is not a formality: a misspelt argument is refused before any run."""
    broken = copy.deepcopy(find("kill-order").experiment)
    broken["method"][0]["provider"]["arguments"]["componnent"] = "order"
    with pytest.raises((InvalidActivity, InvalidExperiment)):
        ensure_experiment_is_valid(broken)


def test_an_unknown_drill_names_the_known_ones() -> None:
    with pytest.raises(DrillError, match=r"unknown drill 'no-such-drill'.*kill-order"):
        find("no-such-drill")


@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_gameday_experiments_validate(seed: int) -> None:
    document = gameday.experiment(seed)
    validate(Drill(name=f"gameday-{seed}", path=gameday.base_file(), experiment=document))
    for provider in _providers(document):
        function = getattr(import_module(provider["module"]), provider["func"])
        inspect.signature(function).bind(**provider.get("arguments", {}))
