"""A few seconds of the real load test against both services, so the load test cannot rot.

The run goes through the same entry point as `make load` (a Locust child process, then the
verdict), against the services as processes, and is judged against objectives any working
system meets. What it proves: every journey sends requests that succeed, every report is
written, the trace ids the load test reports are the ones the services logged, and a
threshold nobody can meet fails the verdict with a sentence that says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threadline_loadtests.cli import EXIT_BREACH, EXIT_PASS, main
from threadline_loadtests.local_services import LocalServices
from threadline_loadtests.summary import RunSummary

pytestmark = pytest.mark.e2e

# Objectives any working system meets on a busy 2-core machine: the run must pass them.
LENIENT = """
[defaults]
p95_ms = 5000
p99_ms = 5000
max_error_rate = 0.0

[journeys.mixed]
min_rps = 1
[journeys.account]
min_rps = 0.5
[journeys.orders]
min_rps = 0.5
[journeys.signup]
min_rps = 0.01
"""
IMPOSSIBLE = """
[journeys.mixed]
min_rps = 1000000
"""
EXPECTED_REQUESTS = {
    "POST /v1/users",
    "POST /v1/auth/token",
    "GET /v1/users/me",
    "GET /v1/users/{id}",
    "PATCH /v1/users/{id}",
    "order.v1.OrderService/CreateOrder",
    "order.v1.OrderService/GetOrder",
    "order.v1.OrderService/ListOrders",
}


def logged_trace_ids(log: str, message: str) -> set[str]:
    trace_ids = set()
    for line in log.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("message") == message and record.get("trace_id"):
                trace_ids.add(record["trace_id"])
    return trace_ids


def test_a_short_run_passes_and_its_trace_ids_are_the_services_own(
    services: LocalServices, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    lenient, impossible = tmp_path / "lenient.toml", tmp_path / "impossible.toml"
    lenient.write_text(LENIENT)
    impossible.write_text(IMPOSSIBLE)

    exit_code = main(
        [
            "run",
            "--host", services.user.address,
            "--grpc-target", services.order.address,
            "--users", "5",
            "--spawn-rate", "5",
            "--run-time", "8s",
            "--user-rps", "8",
            "--accounts", "3",
            "--include-ramp-up",  # a few seconds: measure all of them
            "--no-trace-lookup",  # no Jaeger here (spans go to the session's sink); logs carry ids
            "--out", str(out),
            "--slo", str(lenient),
        ]
    )  # fmt: skip

    printed = capsys.readouterr()
    assert exit_code == EXIT_PASS, f"{printed.out}\n{printed.err}\n{services.order.log()[-2000:]}"
    assert "VERDICT: PASS" in printed.out
    for report in ["report.html", "locust_stats.csv", "locust_stats_history.csv", "summary.json"]:
        assert (out / report).stat().st_size > 0, report
    for chart in ["throughput.png", "latency.png", "errors.png"]:
        assert (out / chart).read_bytes().startswith(b"\x89PNG"), chart

    summary = RunSummary.read(out / "summary.json")
    assert set(summary.journeys) == {"mixed", "account", "orders", "signup"}
    assert summary.journeys["mixed"].failures == 0
    requests = {request.name: request for request in summary.requests}
    assert set(requests) >= EXPECTED_REQUESTS

    # The services continued the load test's traces: the slowest profile updates the load
    # test reports are the very requests the user service logged under those trace ids.
    slowest_updates = {slow.trace_id for slow in requests["PATCH /v1/users/{id}"].slowest}
    assert slowest_updates
    logged = logged_trace_ids(services.user.log(), "user updated")
    assert slowest_updates <= logged, f"not logged: {slowest_updates - logged}"

    # The same run against a threshold nobody meets: a breach, said in a sentence.
    assert main(["report", str(out), "--slo", str(impossible)]) == EXIT_BREACH
    judged = capsys.readouterr().out
    assert "VERDICT: FAIL: 1 of 1 objectives breached" in judged
    assert "journey 'mixed': throughput was " in judged
    assert "below the minimum of 1000000.0 req/s" in judged
