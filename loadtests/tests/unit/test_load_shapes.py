"""Shapes: users over the run as shares of the peak."""

from __future__ import annotations

from threadline_loadtests.shapes.profile import users_at

SPIKE = ((0.4, 0.25), (0.6, 1.0), (1.0, 0.25))


def test_a_spike_quadruples_the_users_for_a_fifth_of_the_run() -> None:
    timeline = [
        users_at(SPIKE, elapsed=second, run_time=100, peak_users=40)
        for second in (0, 39, 40, 59, 60, 99)
    ]

    assert timeline == [10, 10, 40, 40, 10, 10]


def test_the_run_ends_at_its_run_time() -> None:
    assert users_at(SPIKE, elapsed=100, run_time=100, peak_users=40) is None


def test_never_fewer_than_one_user() -> None:
    assert users_at(((1.0, 0.01),), elapsed=0, run_time=10, peak_users=3) == 1
