"""The objectives file and the verdict: what passes, what breaches, and how a breach reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_loadtests.cli import DEFAULT_SLO
from threadline_loadtests.slo import Objectives, SloFileError, evaluate
from threadline_loadtests.summary import Figures, RunSummary
from threadline_loadtests.verdict import render_verdict


def figures(
    *,
    requests: int = 1000,
    failures: int = 0,
    rps: float = 100.0,
    p95: float = 40.0,
    p99: float = 80.0,
) -> Figures:
    return Figures(
        requests=requests,
        failures=failures,
        rps=rps,
        avg_ms=10.0,
        p50_ms=8.0,
        p95_ms=p95,
        p99_ms=p99,
        max_ms=300.0,
    )


def summary(**journeys: Figures) -> RunSummary:
    return RunSummary(
        started_at="2026-01-01T00:00:00+00:00",
        duration_seconds=60.0,
        host="http://127.0.0.1:8000",
        grpc_target="127.0.0.1:50051",
        peak_users=40,
        user_rps=4.0,
        trace_sample_ratio=1.0,
        run_id="abcd1234",
        generator_cpu_percent_avg=30.0,
        generator_cpu_percent_max=45.0,
        journeys=journeys,
        requests=[],
        errors=[],
    )


OBJECTIVES = Objectives.parse(
    {
        "defaults": {"p95_ms": 150, "p99_ms": 250, "max_error_rate": 0.001},
        "journeys": {"mixed": {"min_rps": 100}, "signup": {"min_rps": 0.3, "p99_ms": 1000}},
    }
)


def test_a_run_within_every_objective_passes() -> None:
    checks = evaluate(OBJECTIVES, summary(mixed=figures(), signup=figures(rps=0.8, p99=900.0)))

    assert len(checks) == 8
    assert all(check.passed for check in checks)
    assert "VERDICT: PASS" in render_verdict(checks, summary(mixed=figures()))


def test_defaults_apply_to_each_journey_and_a_journey_may_override_them() -> None:
    mixed, signup = OBJECTIVES.journeys

    assert (mixed.p99_ms, mixed.min_rps) == (250, 100)
    assert (signup.p99_ms, signup.p95_ms, signup.min_rps) == (1000, 150, 0.3)


@pytest.mark.parametrize(
    ("observed", "message"),
    [
        (
            figures(p99=251.0),
            "journey 'mixed': p99 latency was 251 ms, above the maximum of 250 ms",
        ),
        (
            figures(p95=400.0),
            "journey 'mixed': p95 latency was 400 ms, above the maximum of 150 ms",
        ),
        (figures(failures=2), "journey 'mixed': error rate was 0.20%, above the maximum of 0.10%"),
        (
            figures(rps=99.5),
            "journey 'mixed': throughput was 99.5 req/s, below the minimum of 100.0 req/s",
        ),
    ],
)
def test_each_kind_of_breach_fails_with_a_sentence_naming_it(
    observed: Figures, message: str
) -> None:
    checks = evaluate(OBJECTIVES, summary(mixed=observed, signup=figures(rps=1.0)))
    verdict = render_verdict(checks, summary(mixed=observed))

    assert [check.breach_message() for check in checks if not check.passed] == [message]
    assert "VERDICT: FAIL: 1 of 8 objectives breached" in verdict
    assert f"  - {message}" in verdict


def test_a_journey_that_saw_no_traffic_is_a_breach_not_a_pass() -> None:
    checks = evaluate(OBJECTIVES, summary(mixed=figures()))

    breaches = [check for check in checks if not check.passed]
    assert {check.journey for check in breaches} == {"signup"}
    assert "no requests were recorded" in breaches[0].breach_message()


def test_an_impossible_threshold_fails_even_a_perfect_run() -> None:
    impossible = Objectives.parse({"journeys": {"mixed": {"min_rps": 1e9, "p99_ms": 0}}})

    checks = evaluate(impossible, summary(mixed=figures(p99=1.0)))

    assert [check.passed for check in checks] == [False, False]


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"journeys": {"mixed": {"p99": 250}}}, "unknown keys ['p99']"),
        ({"journeys": {"mixed": {"p99_ms": "fast"}}}, "p99_ms must be a non-negative number"),
        ({"journeys": {"mixed": {"min_rps": -1}}}, "min_rps must be a non-negative number"),
        ({"defaults": {"min_rps": 10}, "journeys": {"mixed": {}}}, "min_rps is per journey"),
        ({"defaults": {"p99_ms": 250}}, "no [journeys.<name>] section"),
        ({"journey": {}}, "unknown sections ['journey']"),
    ],
)
def test_a_malformed_file_is_refused_with_the_reason(
    document: dict[str, object], complaint: str
) -> None:
    with pytest.raises(SloFileError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        Objectives.parse(document, source="slo.toml")


def test_the_shipped_objectives_parse_and_cover_every_journey() -> None:
    shipped = Objectives.load(DEFAULT_SLO)

    assert {journey.journey for journey in shipped.journeys} == {
        "mixed",
        "account",
        "orders",
        "signup",
    }
    assert all(journey.min_rps for journey in shipped.journeys)


def test_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text("[defaults\n")

    with pytest.raises(SloFileError, match=r"slo\.toml"):
        Objectives.load(path)
