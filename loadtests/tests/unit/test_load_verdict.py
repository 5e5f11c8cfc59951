"""The verdict's text: journeys in a stable order, the generator's CPU, slow traces to open."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from threadline_loadtests.cpu_window import LOAD_GENERATOR
from threadline_loadtests.slowest import SlowRequest
from threadline_loadtests.summary import Figures, RequestFigures, RunSummary
from threadline_loadtests.trace_lookup import TraceLookup
from threadline_loadtests.verdict import TraceLinks, render_slowest, render_verdict

FIGURES = Figures(
    requests=100, failures=0, rps=10.0, avg_ms=5, p50_ms=4, p95_ms=9, p99_ms=12, max_ms=30
)
SLOW = SlowRequest(30.0, "a" * 32, sampled=False, failed=False)
SLOW_SAMPLED = SlowRequest(25.0, "b" * 32, sampled=True, failed=True)
SUMMARY = RunSummary(
    started_at="2026-01-01T00:00:00+00:00",
    duration_seconds=10.0,
    host="http://127.0.0.1:8000",
    grpc_target="127.0.0.1:50051",
    peak_users=3,
    user_rps=4.0,
    trace_sample_ratio=0.1,
    run_id="r1",
    generator_cpu_percent_avg=20.0,
    generator_cpu_percent_max=35.0,
    journeys={"orders": FIGURES, "account": FIGURES, "mixed": FIGURES},
    requests=[
        RequestFigures(
            "order.v1.OrderService/GetOrder", "gRPC", FIGURES, [SLOW, SLOW_SAMPLED], [SLOW_SAMPLED]
        ),
        RequestFigures("GET /v1/users/me", "GET", FIGURES, [SLOW], []),
    ],
    errors=[],
)


def test_journeys_come_mixed_first_then_by_name() -> None:
    text = render_verdict([], SUMMARY)

    rows = [
        line.split()[0]
        for line in text.splitlines()
        if line.split()[:1] in (["mixed"], ["account"], ["orders"])
    ]
    assert rows == ["mixed", "account", "orders"]


def test_the_generators_cpu_is_reported_and_saturation_called_out() -> None:
    assert "Load generator CPU: 20% on average, 35% at most\n" in render_verdict([], SUMMARY) + "\n"

    measured = dataclasses.replace(SUMMARY, cpu_ms_per_request={LOAD_GENERATOR: 0.412})
    assert "Load generator CPU: 20% on average, 35% at most, 412 us per request" in render_verdict(
        [], measured
    )

    saturated = dataclasses.replace(SUMMARY, generator_cpu_percent_max=97.0)
    assert "saturated: its own queueing is in these latencies" in render_verdict([], saturated)

    unsampled = dataclasses.replace(
        SUMMARY, generator_cpu_percent_avg=None, generator_cpu_percent_max=None
    )
    assert "Load generator CPU: not sampled" in render_verdict([], unsampled)


def test_slow_requests_show_their_trace_ids_and_link_the_slowest_sampled_one() -> None:
    text = render_slowest(SUMMARY, TraceLinks())

    assert "order.v1.OrderService/GetOrder  [gRPC]" in text
    assert "GET /v1/users/me  [HTTP]" in text
    assert f"30.0 ms  {'a' * 32}  (not sampled)" in text
    assert f"25.0 ms  {'b' * 32}  (sampled, failed)" in text
    assert f"http://127.0.0.1:16686/api/traces/{'b' * 32}" in text
    assert f"http://127.0.0.1:16686/trace/{'b' * 32}" in text
    assert f"http://127.0.0.1:9428/select/vmui/#/?query=trace_id%3A%3D%22{'b' * 32}%22" in text
    assert f"/trace/{'a' * 32}" not in text  # an unsampled trace is nowhere to open


def test_a_summary_survives_its_json(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"

    SUMMARY.write(path)

    assert RunSummary.read(path) == SUMMARY


def test_says_whether_the_slowest_sampled_trace_reached_the_trace_store() -> None:
    found = render_slowest(
        SUMMARY,
        TraceLinks(),
        in_store={"b" * 32: TraceLookup("b" * 32, ("order", "user"), store="Jaeger")},
    )
    missing = render_slowest(
        SUMMARY, TraceLinks(), in_store={"b" * 32: TraceLookup("b" * 32, (), store="Jaeger")}
    )

    assert "in Jaeger, spans from: order, user" in found
    assert "not in Jaeger (yet)" in missing
