"""Which arm runs when: arms take turns within a round, and the order rotates round by round.

On a machine shared with other work, a neighbour's burst then falls on every arm rather than on
the one that happened to be running, and no arm always runs first (or last) in a round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["in_turns", "rotated", "schedule"]

Arm = TypeVar("Arm")
Figure = TypeVar("Figure")


def rotated(arms: Sequence[Arm], round_: int) -> list[Arm]:
    """The arms in the order round `round_` (from 1) runs them: shifted one further each round."""
    shift = (round_ - 1) % len(arms) if arms else 0
    return [*arms[shift:], *arms[:shift]]


def schedule(arms: Sequence[Arm], rounds: int, *, rotate: bool = True) -> list[tuple[int, Arm]]:
    """Every (round, arm) run of a paired benchmark, in the order to run them."""
    return [
        (round_, arm)
        for round_ in range(1, rounds + 1)
        for arm in (rotated(arms, round_) if rotate else arms)
    ]


def in_turns(
    arms: Sequence[Arm], run: Callable[[Arm], Figure], *, turns: int
) -> dict[int, list[Figure]]:
    """Run each arm `turns` times, taking turns in a fixed order; figures by the arm's index."""
    figures: dict[int, list[Figure]] = {index: [] for index in range(len(arms))}
    for _ in range(turns):
        for index, arm in enumerate(arms):
            figures[index].append(run(arm))
    return figures
