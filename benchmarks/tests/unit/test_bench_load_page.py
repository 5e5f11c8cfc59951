"""The benchmark's page: the result, the steps, the slowest traces and the CPU per request."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from threadline_benchmarks.load import page as bench_doc
from threadline_benchmarks.load.steps import BenchSettings, Step
from threadline_loadtests.cpu_window import LOAD_GENERATOR
from threadline_loadtests.slowest import SlowRequest
from threadline_loadtests.summary import Figures, RequestFigures, RunSummary


def figures(*, rps: float, p99: float) -> Figures:
    return Figures(
        requests=int(rps * 40),
        failures=0,
        rps=rps,
        avg_ms=20,
        p50_ms=15,
        p95_ms=p99 / 2,
        p99_ms=p99,
        max_ms=p99 * 2,
    )


def summary(mixed: Figures, cpu: dict[str, float]) -> RunSummary:
    unsampled = SlowRequest(480.0, "a" * 32, sampled=False, failed=False)
    sampled = SlowRequest(310.0, "b" * 32, sampled=True, failed=False)
    return RunSummary(
        started_at="2026-01-01T00:00:00+00:00",
        duration_seconds=40.0,
        host="http://127.0.0.1:8000",
        grpc_target="127.0.0.1:50051",
        peak_users=31,
        user_rps=10.0,
        trace_sample_ratio=0.1,
        run_id="r1",
        generator_cpu_percent_avg=12.0,
        generator_cpu_percent_max=15.0,
        journeys={"mixed": mixed},
        requests=[
            RequestFigures("GET /v1/users/me", "GET", mixed, [unsampled, sampled], [sampled])
        ],
        errors=[],
        cpu_ms_per_request=cpu,
    )


def test_the_page_shows_the_best_step_its_traces_and_what_a_request_costs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bench_doc, "_commit", lambda _doc, _charts: "abc1234")
    held = Step(
        300,
        31,
        tmp_path,
        summary(figures(rps=296, p99=180), {}),
        holds=True,
        why="held",
        cpu_ms_per_request={LOAD_GENERATOR: 0.4, "order service": 2.0, "user service": 1.0},
    )
    failed = Step(
        400,
        41,
        tmp_path,
        summary(figures(rps=380, p99=900), {}),
        holds=False,
        why="p99 900 ms > 250 ms",
        cpu_ms_per_request={LOAD_GENERATOR: 0.35, "order service": 1.8, "user service": 0.9},
    )

    page = bench_doc.render_doc(
        settings=BenchSettings(doc=tmp_path / "load.md", out_dir=tmp_path),
        steps=[held, failed],
        best=held,
        started=datetime(2026, 1, 1, tzinfo=UTC),
        load_before=(1.0, 1.0, 1.0),
        load_after=(2.0, 2.0, 2.0),
        stack={"user API": True, "Grafana": False},
        charts=[Path("load/steps.png")],
    )

    assert "**Result: 296 requests/s**" in page
    assert "- commit: abc1234" in page
    assert "| 400 | 41 | 380 | 15 | 450 | 900 | 1800 | 0 | 12 / 15 | p99 900 ms > 250 ms |" in page
    # The slowest request, and the slowest one whose trace can be opened.
    assert f"| {'a' * 32} | {'b' * 32} (310) |" in page
    # CPU per request from the busiest step; the system is everything but the generator.
    assert "## CPU per request (400 req/s offered, the busiest step)" in page
    assert "| **system (all but the load generator)** | **2.70** |" in page
    assert "| 300 | 3.00 | 0.40 |" in page
    # 2 cores less the generator's 0.35 ms at 800 req/s leave 2.15 ms per request.
    assert "the two cores less the load generator's 0.35 ms would serve at most about 656" in page
    assert "leaves the system at most 2.15 ms per request" in page
    assert "![steps](load/steps.png)" in page


def _page(tmp_path: Path, *, floor: bool) -> str:
    step = Step(
        800,
        81,
        tmp_path,
        summary(figures(rps=790, p99=60), {}),
        holds=True,
        why="held",
        cpu_ms_per_request={LOAD_GENERATOR: 0.6, "order service": 0.6, "user service": 0.25},
    )
    return bench_doc.render_doc(
        settings=BenchSettings(doc=tmp_path / "floor.md", out_dir=tmp_path, floor=floor),
        steps=[step],
        best=step,
        started=datetime(2026, 1, 1, tzinfo=UTC),
        load_before=(1.0, 1.0, 1.0),
        load_after=(2.0, 2.0, 2.0),
        stack={"user API": True, "PostgreSQL": False},
        charts=[],
    )


def test_the_floor_page_says_what_ran_and_claims_no_traces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bench_doc, "_commit", lambda _doc, _charts: "abc1234")

    floor = _page(tmp_path, floor=True)
    system = _page(tmp_path, floor=False)

    assert floor.startswith("# Load benchmark: the frameworks alone (the floor)")
    assert "the floor services trace nothing" in floor
    assert "make bench-floor" in floor
    # The floor services write no log lines and export no spans: the page must not say so.
    assert "reaches the services' log lines" not in floor
    assert "parent-based" not in floor
    assert "**Result: 790 requests/s**" in floor
    assert "| **system (all but the load generator)** | **0.85** |" in floor
    # 2.5 ms at 800 req/s, less the generator's 0.6 and the frameworks' 0.85.
    assert "took 0.60 ms and the two frameworks 0.85 ms of CPU per request: 1.05 ms" in floor
    # The real benchmark's page points at the floor under its figures.
    assert system.startswith("# Load benchmark: the mixed journey")
    assert "reaches the services' log lines" in system
    assert "[floor.md](floor.md)" in system
    assert "make bench-floor" not in system
    assert "Left at the goal" not in system


def test_the_commit_is_clean_when_only_the_runs_own_outputs_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    # The layout of a real run: the page, its charts beside it, linked relative to the page.
    page = tmp_path / "docs" / "benchmarks" / "load.md"
    chart = page.parent / "load" / "steps.png"
    code = tmp_path / "bench.py"
    chart.parent.mkdir(parents=True)
    for path in (page, chart, code):
        path.write_text("v1")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1")
    monkeypatch.chdir(tmp_path)
    page.write_text("v2")
    chart.write_text("v2")
    doc, charts = Path("docs/benchmarks/load.md"), [Path("load/steps.png")]

    assert not bench_doc._commit(doc, charts).endswith("working tree)")
    code.write_text("v2")
    assert bench_doc._commit(doc, charts).endswith("(with uncommitted changes in the working tree)")
