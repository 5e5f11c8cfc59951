"""The shared harness: paired ratios, scheduling of arms, page writing, closed loops, the CLI."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

import pytest

from threadline_benchmarks import cli
from threadline_benchmarks.harness import page, wrk
from threadline_benchmarks.harness.closed_loop import closed_loop, percentile_ms
from threadline_benchmarks.harness.page import NOTES_MARKER, portable, write_page
from threadline_benchmarks.harness.ratios import paired_summary
from threadline_benchmarks.harness.schedule import in_turns, rotated, schedule
from threadline_benchmarks.harness.service_benchmark import ServiceBenchmark, run_benchmark


def test_ratios_are_taken_within_a_round_then_the_median_is_reported() -> None:
    # The bare arm halves in round 2 (a neighbour's burst) and so does the arm: ratio 0.5 both.
    bare = {1: (1000.0, 100.0), 2: (500.0, 200.0), 3: (1000.0, 100.0)}
    arm = {1: (500.0, 200.0), 2: (250.0, 400.0), 3: (600.0, 180.0)}
    summary = paired_summary(arm, bare)
    assert summary["ratio_to_bare"] == 0.5
    assert (summary["min_ratio"], summary["max_ratio"]) == (0.5, 0.6)
    assert summary["requests_per_second"] == 500.0
    # 1/500 - 1/1000 s = 1000 µs; 1/250 - 1/500 = 2000; 1/600 - 1/1000 = 666.7: median 1000.
    assert summary["added_microseconds_per_request"] == 1000.0
    assert summary["cpu_microseconds_per_request"] == 200.0
    assert summary["added_cpu_microseconds_per_request"] == 100.0
    assert summary["cpu_ratio_to_bare"] == 0.5


def test_the_baseline_against_itself_is_one() -> None:
    bare = {1: (800.0, 125.0), 2: (900.0, 111.0)}
    summary = paired_summary(bare, bare)
    assert summary["ratio_to_bare"] == summary["cpu_ratio_to_bare"] == 1.0
    assert summary["added_microseconds_per_request"] == 0.0


def test_only_rounds_both_ran_count_and_none_is_an_error() -> None:
    summary = paired_summary({1: (100.0, 10.0), 2: (50.0, 20.0)}, {2: (100.0, 10.0)})
    assert summary["ratio_to_bare"] == 0.5
    with pytest.raises(ValueError, match="share no round"):
        paired_summary({1: (1.0, 1.0)}, {2: (1.0, 1.0)})


def test_arms_rotate_so_none_always_runs_first() -> None:
    arms = ["bare", "library", "contrib"]
    assert rotated(arms, 1) == ["bare", "library", "contrib"]
    assert rotated(arms, 2) == ["library", "contrib", "bare"]
    assert rotated(arms, 4) == arms
    runs = schedule(arms, 3)
    assert len(runs) == 9
    firsts = [runs[i][1] for i in range(0, 9, 3)]
    assert sorted(firsts) == sorted(arms)
    assert [arm for _, arm in schedule(arms, 2, rotate=False)] == arms * 2


def test_in_turns_runs_every_arm_each_turn_in_order() -> None:
    ran: list[str] = []

    def run(arm: str) -> int:
        ran.append(arm)
        return len(ran)

    figures = in_turns(["a", "b"], run, turns=3)
    assert ran == ["a", "b", "a", "b", "a", "b"]
    assert figures == {0: [1, 3, 5], 1: [2, 4, 6]}


def test_wrk_scenarios_take_turns_and_their_turns_are_combined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[tuple[str, int]] = []

    def run_wrk(
        name: str, url: str, *, seconds: int, connections: int, lua: str, note: str
    ) -> wrk.Result:
        ran.append((name, seconds))
        turn = len(ran)
        return wrk.Result(
            scenario=name,
            connections=connections,
            requests=100 * turn,
            seconds=seconds,
            throughput_rps=0.0,
            p50_ms=float(turn),
            p99_ms=9.0 if turn == 3 else 4.0,
            non_2xx=1,
            socket_errors=0,
            note=note,
        )

    monkeypatch.setattr(wrk, "run_wrk", run_wrk)
    fast, slow = wrk.in_turns(
        [("fast", "u", "", "n1"), ("slow", "u", "", "n2")], seconds=6, connections=8, turns=3
    )
    assert ran == [("fast", 2), ("slow", 2)] * 3
    # fast ran 1st, 3rd and 5th: 100 + 300 + 500 requests over 6 s; p50 the turns' median.
    assert (fast.requests, fast.seconds, fast.throughput_rps) == (900, 6, 150.0)
    assert (fast.p50_ms, fast.p99_ms, fast.non_2xx, fast.note) == (3.0, 9.0, 3, "n1")
    assert (slow.scenario, slow.requests, slow.p99_ms) == ("slow", 1200, 4.0)


def test_a_page_keeps_its_notes_and_writes_json_beside_it(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "x.md"
    write_page(doc, "# X\n\nold figures\n", {"a": 1})
    assert json.loads(doc.with_suffix(".json").read_text()) == {"a": 1}
    assert doc.with_suffix(".json").read_text().endswith("}\n")
    doc.write_text(doc.read_text() + f"\n{NOTES_MARKER}\n\nWhy the figures moved.\n")
    write_page(doc, "# X\n\nnew figures\n")
    text = doc.read_text()
    assert text.startswith("# X\n\nnew figures\n\n" + NOTES_MARKER)
    assert text.endswith("Why the figures moved.\n")
    assert "old figures" not in text


def test_committed_arguments_name_paths_relative_to_the_repository() -> None:
    arguments = {"out": page.ROOT / "docs" / "benchmarks" / "order.md", "seconds": 8.0}
    assert portable(arguments) == {
        "out": os.path.join("docs", "benchmarks", "order.md"),
        "seconds": 8.0,
    }


def test_percentiles_use_the_nearest_rank_in_ms() -> None:
    seconds = [i / 1000 for i in range(1, 101)]
    assert percentile_ms(seconds, 0.5) == pytest.approx(51.0)
    assert percentile_ms(seconds, 0.99) == pytest.approx(100.0)
    assert percentile_ms([], 0.99) == 0.0


def test_a_closed_loop_counts_calls_and_errors_after_the_warm_up() -> None:
    async def call(n: int) -> None:
        await asyncio.sleep(0.001)
        if n % 4 == 0:
            raise ConnectionError("refused")

    figures = asyncio.run(
        closed_loop(
            "sleep", call, concurrency=4, seconds=0.3, warmup=0.1, errors_of=(ConnectionError,)
        )
    )
    assert figures.calls > 0
    assert 0.15 < figures.errors / (figures.calls + figures.errors) < 0.35
    assert figures.throughput == figures.calls / 0.3
    assert all(latency >= 0.001 for latency in figures.latencies)


def test_a_service_benchmark_is_measured_then_written_with_its_options(tmp_path: Path) -> None:
    seen: list[str] = []

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--seconds", type=float, default=8.0)

    def measure(args: argparse.Namespace) -> float:
        seen.append("measure")
        return float(args.seconds * 2)

    def write(figures: float, args: argparse.Namespace) -> None:
        write_page(args.out, f"# payment\n\n{figures} calls/s\n")

    benchmark = ServiceBenchmark(
        name="payment",
        summary="a generated service",
        data_stores=(),
        measure=measure,
        write=write,
        options=options,
    )
    out = tmp_path / "payment.md"
    assert run_benchmark(benchmark, ["--seconds", "3", "--out", str(out)]) == 0
    assert seen == ["measure"]
    assert out.read_text() == "# payment\n\n6.0 calls/s\n"


def test_every_make_target_resolves_to_a_benchmark() -> None:
    for name in cli.BENCHMARKS:
        assert callable(cli.resolve(name))


def test_an_unknown_benchmark_is_refused_with_the_known_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["nope"]) == 2
    assert "load, floor, user, order" in capsys.readouterr().err
