"""A game day is replayable: its seed alone decides which faults, in which order, for how long."""

from __future__ import annotations

import pytest

from threadline_chaos import gameday


def test_the_same_seed_gives_the_same_schedule_and_experiment() -> None:
    assert gameday.schedule(7) == gameday.schedule(7)
    assert gameday.experiment(7) == gameday.experiment(7)


def test_different_seeds_give_different_game_days() -> None:
    schedules = {tuple(gameday.schedule(seed)) for seed in range(20)}
    assert len(schedules) > 15


def test_each_fault_is_undone_before_the_next_and_in_the_rollbacks() -> None:
    steps = gameday.schedule(3, faults=4)
    document = gameday.experiment(3, faults=4)
    names = [a["name"] for a in document["method"]]
    for number, step in enumerate(steps, start=1):
        inject, undo = gameday.FAULTS[step.fault]
        assert names.index(f"{number}-{inject['name']}") < names.index(f"{number}-{undo['name']}")
        assert undo in document["rollbacks"]
    assert names[-1] == "recovery"
    assert len({s.fault for s in steps}) == 4


def test_timing_stays_bounded() -> None:
    for seed in range(50):
        for step in gameday.schedule(seed):
            assert 10 <= step.wait_before_s <= 30
            assert 10 <= step.hold_s <= 30


def test_too_many_faults_is_refused() -> None:
    with pytest.raises(ValueError, match="faults must be"):
        gameday.schedule(1, faults=len(gameday.FAULTS) + 1)
