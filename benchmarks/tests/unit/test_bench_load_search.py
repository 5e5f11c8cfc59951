"""When a benchmark step holds: no failure, p99 within the limit, the offered load delivered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from threadline_benchmarks.load import search as bench
from threadline_benchmarks.load.steps import BenchSettings, Step, step_holds
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


def fake_steps(monkeypatch: pytest.MonkeyPatch, capacity: float) -> list[float]:
    """Replace the Locust runs with a system that holds exactly up to `capacity`."""
    offered: list[float] = []

    def run_step(
        settings: BenchSettings, target: float, accounts_file: Path, attempt: int = 1
    ) -> Step:
        offered.append(target)
        holds = target <= capacity
        why = "held" if holds else "too much"
        return Step(target, 1, accounts_file, None, holds, why, attempt=attempt)

    monkeypatch.setattr(bench, "_run_step", run_step)
    return offered


def test_climbs_until_a_step_fails_then_bisects(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    offered = fake_steps(monkeypatch, capacity=530)

    steps = bench.search(BenchSettings(doc=tmp_path / "d.md", out_dir=tmp_path), tmp_path)

    # Every failing step is run twice before it counts as failed.
    assert offered == [200, 400, 600, 600, 500, 550, 550, 520]
    assert max(step.target_rps for step in steps if step.holds) == 520
    assert [step.attempt for step in steps if step.target_rps == 600] == [1, 2]


def test_halves_when_even_the_first_step_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    offered = fake_steps(monkeypatch, capacity=90)

    bench.search(BenchSettings(doc=tmp_path / "d.md", out_dir=tmp_path), tmp_path)

    assert offered[:5] == [200, 200, 100, 100, 50]
    assert offered[5:] == [80, 90]


def test_gives_up_below_the_floor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    offered = fake_steps(monkeypatch, capacity=5)

    steps = bench.search(BenchSettings(doc=tmp_path / "d.md", out_dir=tmp_path), tmp_path)

    assert offered == [200, 200, 100, 100, 50, 50, 25, 25]
    assert not any(step.holds for step in steps)


def test_a_step_that_fails_once_and_holds_on_its_rerun_counts_as_held(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A system that holds 500 req/s, disturbed during the first run at 400.
    offered: list[float] = []

    def run_step(
        settings: BenchSettings, target: float, accounts_file: Path, attempt: int = 1
    ) -> Step:
        offered.append(target)
        holds = target <= 500 and not (target == 400 and attempt == 1)
        return Step(target, 1, accounts_file, None, holds, "x", attempt=attempt)

    monkeypatch.setattr(bench, "_run_step", run_step)
    settings = BenchSettings(doc=tmp_path / "d.md", out_dir=tmp_path, bisect_steps=1)

    steps = bench.search(settings, tmp_path)

    assert offered == [200, 400, 400, 600, 600, 500]
    assert max(step.target_rps for step in steps if step.holds) == 500


def test_the_load_benchmark_never_imports_locust() -> None:
    # Locust patches the standard library for gevent on import; the benchmark drives Locust as
    # a child process and must stay out of it (and so must pytest, which imports it).
    probe = (
        "import sys, threadline_benchmarks.load.cli, threadline_benchmarks.load.search;"
        "sys.exit('locust' in sys.modules or 'gevent' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False, timeout=60).returncode == 0
