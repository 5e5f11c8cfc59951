"""When a benchmark step holds: no failure, p99 within the limit, the offered load delivered."""

from __future__ import annotations

import pytest
from threadline_loadtests.bench import step_holds
from threadline_loadtests.summary import Figures


def mixed(*, failures: int = 0, p99: float = 120.0, rps: float = 800.0) -> Figures:
    return Figures(
        requests=40_000,
        failures=failures,
        rps=rps,
        avg_ms=9,
        p50_ms=7,
        p95_ms=60,
        p99_ms=p99,
        max_ms=400,
    )


@pytest.mark.parametrize(
    ("figures", "holds", "why"),
    [
        (mixed(), True, "held"),
        (mixed(failures=1), False, "1 failures"),
        (mixed(p99=251), False, "p99 251 ms > 250 ms"),
        (mixed(rps=700), False, "delivered 700 of 800 req/s offered"),
        (None, False, "no requests measured"),
    ],
)
def test_a_step_holds_only_within_every_limit(
    figures: Figures | None, holds: bool, why: str
) -> None:
    assert step_holds(figures, target_rps=800, p99_limit_ms=250, min_delivered_share=0.95) == (
        holds,
        why,
    )
