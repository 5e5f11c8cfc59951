"""`make bench-compare`'s page: the stack's throughput over the floor's, and each service's CPU."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from threadline_benchmarks.harness.page import write_page
from threadline_benchmarks.load import compare
from threadline_benchmarks.load.compare_page import (
    Comparison,
    Part,
    comparison_data,
    render_comparison,
    throughput_ratio,
)
from threadline_benchmarks.load.steps import BenchSettings, Step
from threadline_loadtests.summary import Figures, RunSummary


def step(offered: float, delivered: float, *, holds: bool, cpu: dict[str, float]) -> Step:
    mixed = Figures(
        requests=int(delivered * 40),
        failures=0,
        rps=delivered,
        avg_ms=20,
        p50_ms=15,
        p95_ms=90,
        p99_ms=180 if holds else 400,
        max_ms=500,
    )
    summary = RunSummary(
        started_at="2026-01-01T00:00:00+00:00",
        duration_seconds=40.0,
        host="http://127.0.0.1:8000",
        grpc_target="127.0.0.1:50051",
        peak_users=int(offered / 10) + 1,
        user_rps=10.0,
        trace_sample_ratio=0.1,
        run_id="r1",
        generator_cpu_percent_avg=12.0,
        generator_cpu_percent_max=15.0,
        journeys={"mixed": mixed},
        requests=[],
        errors=[],
        cpu_ms_per_request={},
    )
    why = "held" if holds else "p99 400 ms > 250 ms"
    return Step(offered, int(offered / 10) + 1, Path("."), summary, holds, why, cpu)


FLOOR_STEPS = [
    step(200, 201, holds=True, cpu={"user service": 0.30, "order service": 0.60}),
    step(400, 399, holds=True, cpu={"user service": 0.25, "order service": 0.55}),
    step(600, 590, holds=True, cpu={"user service": 0.22, "order service": 0.52}),
    step(800, 640, holds=False, cpu={"user service": 0.22, "order service": 0.52}),
]
FLOOR = Part(FLOOR_STEPS, best=FLOOR_STEPS[2])
STACK_STEPS = [
    step(200, 200, holds=True, cpu={"user service": 1.5, "order service": 1.6, "kafka": 0.1}),
    step(400, 396, holds=True, cpu={"user service": 1.4, "order service": 1.5}),
    step(600, 450, holds=False, cpu={"user service": 1.4, "order service": 1.4}),
]
STACK = Part(STACK_STEPS, best=STACK_STEPS[1])


def comparison(tmp_path: Path) -> Comparison:
    settings = BenchSettings(doc=tmp_path / "compare.md", out_dir=tmp_path / "reports")
    started = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    return Comparison(settings, FLOOR, STACK, started, ("1.0, 1.0, 1.0", "2.0, 1.5, 1.2"))


def test_the_ratio_is_the_stacks_best_delivered_throughput_over_the_floors() -> None:
    assert throughput_ratio(FLOOR, STACK) == 396 / 590
    assert throughput_ratio(FLOOR, Part(STACK.steps, None)) is None


def test_the_page_gives_the_ratio_and_each_services_cpu_next_to_its_floor(tmp_path: Path) -> None:
    page = render_comparison(comparison(tmp_path))

    assert "**Result: the stack holds 0.67 of the floor** (396 of 590 requests/s" in page
    assert "spend 2.90 ms of CPU per request together" in page
    # What each real service adds over its bare framework, at each part's best step.
    assert "| user service | 0.22 | 1.40 | 1.18 |" in page
    assert "| order service | 0.52 | 1.50 | 0.98 |" in page
    # Offered loads both parts held, side by side; the one only the floor held is left out.
    assert "| 200 | 0.30 | 0.60 | 1.50 | 1.60 | 3.10 |" in page
    assert "| 400 | 0.25 | 0.55 | 1.40 | 1.50 | 2.90 |" in page
    assert "| 600 | 0.22" not in page
    assert "[compare/floor.md](compare/floor.md)" in page


def test_the_json_holds_every_step_of_both_parts_and_names_no_machine_path(
    tmp_path: Path,
) -> None:
    data = comparison_data(comparison(tmp_path))
    write_page(tmp_path / "compare.md", render_comparison(comparison(tmp_path)), data)

    written = json.loads((tmp_path / "compare.json").read_text())
    assert written["ratio"] == 396 / 590
    assert written["services_cpu_ms_per_request_sum"] == 2.9
    assert [s["offered_rps"] for s in written["floor"]["steps"]] == [200, 400, 600, 800]
    assert [s["holds"] for s in written["stack"]["steps"]] == [True, True, False]


def test_the_floor_runs_first_then_the_stack_is_started_measured_and_stopped_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []

    @contextmanager
    def floor_services(settings: BenchSettings) -> Iterator[BenchSettings]:
        calls.append("floor services up")
        yield settings
        calls.append("floor services down")

    def search(settings: BenchSettings) -> tuple[list[Step], Step | None]:
        part = FLOOR if settings.floor else STACK
        calls.append(f"search {settings.doc.relative_to(tmp_path)}")
        return part.steps, part.best

    monkeypatch.setattr(compare, "running_floor", floor_services)
    monkeypatch.setattr(compare, "search_and_write", search)
    monkeypatch.setattr(compare, "stack_command", lambda command: calls.append(f"stack {command}"))
    monkeypatch.setattr(compare, "port_answers", lambda port: False)  # the stack is down
    settings = BenchSettings(
        doc=tmp_path / "compare.md", out_dir=tmp_path / "reports", otlp_endpoint="http://c:4317"
    )

    assert compare.run_compare(settings) == 0

    assert calls == [
        "floor services up",
        "search compare/floor.md",
        "floor services down",
        "stack up",
        "search compare/stack.md",
        "stack down",  # it was down at the start: left as found
    ]
    assert "**Result: the stack holds 0.67 of the floor**" in (tmp_path / "compare.md").read_text()


def test_a_stack_partly_up_at_the_start_is_left_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[str] = []

    @contextmanager
    def floor_services(settings: BenchSettings) -> Iterator[BenchSettings]:
        yield settings

    monkeypatch.setattr(compare, "running_floor", floor_services)

    def search(settings: BenchSettings) -> tuple[list[Step], Step | None]:
        part = FLOOR if settings.floor else STACK
        return part.steps, part.best

    monkeypatch.setattr(compare, "search_and_write", search)
    monkeypatch.setattr(compare, "stack_command", commands.append)
    monkeypatch.setattr(compare, "port_answers", lambda port: port == 5432)  # PostgreSQL only
    settings = BenchSettings(doc=tmp_path / "compare.md", out_dir=tmp_path / "reports")

    assert compare.run_compare(settings) == 0
    assert commands == ["up"]


def test_a_part_that_held_every_step_is_flagged_as_a_bound(tmp_path: Path) -> None:
    capped_floor = Part(FLOOR_STEPS[:3], best=FLOOR_STEPS[2])
    settings = BenchSettings(doc=tmp_path / "compare.md", out_dir=tmp_path, max_rps=600)
    started = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    page = render_comparison(Comparison(settings, capped_floor, STACK, started, ("", "")))

    assert "The floor held every step up to `--max-rps` (600)" in page
    assert "the ratio an upper bound" in page
    assert "The stack held every step" not in page
