"""The breaker and outbox-backlog probes: what they ask Prometheus and the admin port, and the
numbers with which they fail a drill. Stand-in servers over real HTTP; no stack needed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from chaoslib.exceptions import ActivityFailed

from threadline_chaos import breaker, checks, journal, outbox
from threadline_chaos.admin_metrics import sample_in
from threadline_chaos.breaker import (
    BreakerFigures,
    client_refusals,
    expressions,
    measure,
    nearest_rank,
    problems,
)
from threadline_loadtests.failures import FailedRequest

Serve = Callable[[str], tuple[str, str]]  # path and query -> (content type, body)


@pytest.fixture
def http_server() -> Iterator[Callable[[Serve], str]]:
    """Start a loopback HTTP server answering GETs with serve(path_and_query); its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(serve: Serve) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                content_type, text = serve(self.path)
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(breaker, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(outbox, "POLL_SECONDS", 0.01)


def figures(**changes: float | None) -> BreakerFigures:
    healthy: dict[str, float | None] = {
        "openings": 4,
        "refused": 200,
        "unavailable": 215,
        "unavailable_fast": 199,
        "retries": 30,
        "create_order_p99_s": 0.3,
    }
    values = {**healthy, **changes}
    return BreakerFigures(
        window_s=45,
        openings=values["openings"] or 0,
        refused=values["refused"] or 0,
        unavailable=values["unavailable"] or 0,
        unavailable_fast=values["unavailable_fast"] or 0,
        fast_bound_s=0.05,
        retries=values["retries"] or 0,
        create_order_p99_s=values["create_order_p99_s"],
    )


def test_figures_are_raw_counter_deltas_of_the_breaker_and_the_checked_rpcs() -> None:
    exprs = expressions(window_s=45, breaker="user-service", fast_bound_s=0.05)
    assert exprs["openings"] == (
        '(sum(circuit_breaker_transitions_total{service="order",breaker="user-service",'
        'state="open"}) or vector(0)) - (sum(circuit_breaker_transitions_total{service="order",'
        'breaker="user-service",state="open"} offset 45s) or vector(0))'
    )
    assert "circuit_breaker_rejections_total" in exprs["refused"]
    fast = exprs["unavailable_fast"]
    assert 'grpc_method=~"CreateOrder|CancelOrder"' in fast
    assert 'grpc_code="Unavailable"' in fast
    assert 'le="0.05"' in fast
    assert "increase(" not in fast  # no extrapolation: both sides are raw samples
    assert "[45s]" in exprs["create_order_p99_s"]


def test_a_breaker_that_opened_and_refused_fast_has_no_problem() -> None:
    assert problems(figures(), share=0.99, min_refused=10) == []


def test_a_breaker_that_never_opened_fails_the_drill() -> None:
    found = problems(figures(openings=0, refused=0, unavailable_fast=0), share=0.99, min_refused=10)
    assert found[0] == "the breaker never opened in the last 45 s"
    assert "refused 0 calls" in found[1]


def test_refusals_slower_than_the_bound_fail_with_their_share() -> None:
    found = problems(figures(unavailable_fast=150), share=0.99, min_refused=10)
    assert found == [
        "only 150 of 200 refused calls (75.0%) ended within 50 ms: their p99 is over 50 ms"
    ]


def test_more_fast_failures_than_refusals_count_as_all_fast() -> None:
    assert figures(unavailable_fast=205).refused_fast_share == 1.0


def test_a_create_order_p99_over_its_bound_fails_and_an_unknown_one_too() -> None:
    assert problems(
        figures(create_order_p99_s=0.8), share=0.99, min_refused=10, max_create_order_p99_s=0.5
    ) == ["CreateOrder p99 in the last 45 s was 800 ms, over 500 ms"]
    unknown = problems(
        figures(create_order_p99_s=None), share=0.99, min_refused=10, max_create_order_p99_s=0.5
    )
    assert "unknown (no CreateOrder calls)" in unknown[0]


def test_measure_reads_each_figure_from_its_own_query() -> None:
    exprs = expressions(window_s=30, breaker="user-service", fast_bound_s=0.05)
    answers = {
        exprs["openings"]: 2.0,
        exprs["refused"]: 120.0,
        exprs["unavailable"]: 130.0,
        exprs["unavailable_fast"]: 120.0,
        exprs["retries"]: None,  # the series does not exist: nothing retried
        exprs["create_order_p99_s"]: 0.2,
    }
    measured = measure(answers.__getitem__, window_s=30, breaker="user-service", fast_bound_s=0.05)
    assert (measured.openings, measured.refused, measured.retries) == (2.0, 120.0, 0.0)
    assert measured.refused_fast_share == 1.0


def test_the_probe_fails_the_activity_with_the_numbers_and_keeps_them(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    exprs = expressions(window_s=45, breaker="user-service", fast_bound_s=0.05)
    values = {exprs["openings"]: 3, exprs["refused"]: 100, exprs["unavailable_fast"]: 90}

    def prometheus(path: str) -> tuple[str, str]:
        expression = parse_qs(urlsplit(path).query)["query"][0]
        value = values.get(expression, 0)
        result = [{"metric": {}, "value": [0, str(value)]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return "application/json", json.dumps(body)

    url = http_server(prometheus)
    with pytest.raises(ActivityFailed, match=r"only 90 of 100 refused calls \(90.0%\)"):
        breaker.breaker_refused_fast(window_seconds=45, configuration={"prometheus_url": url})
    kept = json.loads((run_directory / "breaker.json").read_text())
    assert kept["refused"] == 100
    assert kept["refused_fast_share"] == pytest.approx(0.9)
    (check,) = checks.read_all(run_directory)
    assert (check.name, check.held) == ("breaker-refused-fast", False)
    assert "only 90 of 100 refused calls" in check.summary
    assert ("calls refused (circuit_breaker_rejections_total)", "100") in check.observations

    values[exprs["unavailable_fast"]] = 100
    held = breaker.breaker_refused_fast(window_seconds=45, configuration={"prometheus_url": url})
    assert held["problems"] == []
    (check,) = checks.read_all(run_directory)
    assert check.held
    assert check.summary == (
        "the breaker opened 3 times in 45 s and refused 100 calls, 100.0% of them within 50 ms"
    )


def test_the_client_view_counts_only_create_orders_the_breaker_refused_in_the_window() -> None:
    def failure(
        at: float, error: str, ms: float | None, name: str = "CreateOrder"
    ) -> FailedRequest:
        return FailedRequest(at, f"order.v1.OrderService/{name}", "t", True, error, ms)

    open_text = "UNAVAILABLE: user-service is unavailable: circuit open after repeated failures"
    failures = [
        failure(100.0, open_text, 4.0),
        failure(101.0, open_text, 9.0),
        failure(102.0, open_text, 30.0),
        failure(103.0, "user-service is unavailable: no answer within the deadline", 1600.0),
        failure(104.0, open_text, 5.0, name="CancelOrder"),
        failure(50.0, open_text, 900.0),  # before the window
    ]
    assert client_refusals(failures, since=90, until=110) == {
        "count": 3,
        "p50_ms": 9.0,
        "p99_ms": 30.0,
    }
    assert nearest_rank([], 0.99) is None
    assert nearest_rank([float(n) for n in range(1, 201)], 0.99) == 198.0


def test_a_failed_breaker_probe_reaches_the_verdict_as_a_reason() -> None:
    record = {
        "run": [
            {
                "activity": {"name": "breaker-open-and-refusing-fast"},
                "status": "failed",
                "exception": [
                    "Traceback ...\n",
                    "chaoslib.exceptions.ActivityFailed: "
                    "the breaker never opened in the last 45 s\n",
                ],
            }
        ]
    }
    assert journal.failed_activities(record) == [
        "run breaker-open-and-refusing-fast: chaoslib.exceptions.ActivityFailed: "
        "the breaker never opened in the last 45 s"
    ]


EXPOSITION = """\
# HELP circuit_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.
# TYPE circuit_breaker_state gauge
circuit_breaker_state{breaker="user-service"} {state}
circuit_breaker_state{breaker="other"} 2.0
# HELP outbox_backlog_events Outbox rows not yet published to Kafka.
# TYPE outbox_backlog_events gauge
outbox_backlog_events {events}
# HELP outbox_oldest_event_age_seconds Age of the oldest unpublished outbox row.
# TYPE outbox_oldest_event_age_seconds gauge
outbox_oldest_event_age_seconds {age}
"""


def exposition(*, state: float = 0, events: float = 0, age: float = 0) -> str:
    return (
        EXPOSITION.replace("{state}", repr(float(state)))
        .replace("{events}", repr(float(events)))
        .replace("{age}", repr(float(age)))
    )


def test_a_sample_is_found_by_name_and_labels() -> None:
    text = exposition(state=1)
    assert sample_in(text, "circuit_breaker_state", {"breaker": "user-service"}) == 1.0
    assert sample_in(text, "circuit_breaker_state", {"breaker": "other"}) == 2.0
    assert sample_in(text, "circuit_breaker_state", {"breaker": "nobody"}) is None


def test_the_breaker_closing_is_timed_on_the_admin_port(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    reads = iter([2, 2, 1, 0])
    url = http_server(lambda _: ("text/plain", exposition(state=next(reads, 0))))
    closed = breaker.await_breaker_closed(bound_seconds=5, admin_url=f"{url}/metrics")
    assert 0 < closed["closed_after_s"] < 5
    assert json.loads((run_directory / "breaker-closed.json").read_text()) == closed


def test_a_breaker_still_open_after_the_bound_fails_with_its_state(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    url = http_server(lambda _: ("text/plain", exposition(state=2)))
    with pytest.raises(ActivityFailed, match=r"not closed 0 s after the fault: state 2"):
        breaker.await_breaker_closed(bound_seconds=0.05, admin_url=f"{url}/metrics")
    assert [c.held for c in checks.read_all(run_directory)] == [False]


def test_the_drain_is_timed_from_the_backlog_found_until_nothing_old_is_left(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    reads = iter([(1200, 61.0), (1200, 61.0), (700, 30.0), (4, 0.6)])

    def metrics(_: str) -> tuple[str, str]:
        events, age = next(reads, (3, 0.4))
        return "text/plain", exposition(events=events, age=age)

    url = http_server(metrics)
    drained = outbox.await_outbox_drained(bound_seconds=5, admin_url=f"{url}/metrics")
    assert drained["backlog_events_at_start"] == 1200
    assert drained["oldest_age_at_start_s"] == 61.0
    assert drained["backlog_events_after"] <= 4
    assert 0 < drained["drained_after_s"] < 5
    assert (run_directory / "outbox-drain.json").exists()
    (check,) = checks.read_all(run_directory)
    assert check.held
    assert check.summary.startswith("the backlog of 1200 rows (the oldest 61 s old) drained ")
    assert check.summary.endswith(" s after the relay was let go")


def test_the_drain_names_the_moment_it_is_counted_from(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    url = http_server(lambda _: ("text/plain", exposition(events=2, age=0.3)))
    outbox.await_outbox_drained(
        bound_seconds=5, counted_from="Kafka was healthy again", admin_url=f"{url}/metrics"
    )
    (check,) = checks.read_all(run_directory)
    assert check.summary.endswith(" s after Kafka was healthy again")


def test_a_backlog_that_does_not_drain_fails_with_its_size(
    http_server: Callable[[Serve], str], run_directory: Path
) -> None:
    url = http_server(lambda _: ("text/plain", exposition(events=1500, age=90)))
    with pytest.raises(
        ActivityFailed, match=r"did not drain within 0 s: 1500 rows, the oldest 90.0 s"
    ):
        outbox.await_outbox_drained(bound_seconds=0.05, admin_url=f"{url}/metrics")


def test_an_admin_port_that_does_not_answer_fails_after_the_bound(run_directory: Path) -> None:
    with pytest.raises(ActivityFailed, match=r"did not answer"):
        outbox.await_outbox_drained(bound_seconds=0.05, admin_url="http://127.0.0.1:9/metrics")
