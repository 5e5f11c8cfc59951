"""Each policy rule holds on both overlays and fails on a fixture that breaks it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from threadline_k8s.policy import RULES, check_all

from .breakers import BREAKERS, Breaker

Objects = list[dict[str, Any]]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_overlay_keeps_rule(rendered: dict[str, Objects], overlay: str, rule: str) -> None:
    findings = check_all(rendered[overlay], only=[rule])
    assert findings == [], "\n".join(str(f) for f in findings)


def test_every_rule_has_a_failing_fixture() -> None:
    assert {b.rule for b in BREAKERS} == set(RULES)


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda b: f"{b.rule}: {b.description}")
def test_rule_fails_on_its_fixture(rendered: dict[str, Objects], breaker: Breaker) -> None:
    objects = copy.deepcopy(rendered[breaker.overlay])
    breaker.breaks(objects)

    findings = check_all(objects)

    named = [(f.obj, f.field, f.rule) for f in findings]
    assert (breaker.obj, breaker.field, breaker.rule) in named, "\n".join(map(str, findings))
