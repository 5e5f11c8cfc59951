"""terminate-order's in-flight check: the load's failed calls against the SIGTERM's moments,
and the server's own drain line read from a stand-in VictoriaLogs over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from chaoslib.exceptions import ActivityFailed

from threadline_chaos import checks
from threadline_chaos.drain import (
    Moments,
    ServerDrain,
    in_flight_calls_completed,
    judge_drain,
    note_moment,
)
from threadline_loadtests.failures import FailedRequest, FailureLog

PREFIX = "order.v1.OrderService/"
SIGTERM, EXITED, HEALTHY = 1000.0, 1002.0, 1010.0
MOMENTS = Moments(signalled=SIGTERM, exited=EXITED, healthy_again=HEALTHY)
DRAINED = ServerDrain(
    running_at_start=6, ended_ok=5, ended_with_error=1, refused=4, left_running=0, seconds=1.4
)
REFUSED = "order.v1.OrderService/GetOrder: UNAVAILABLE: the server is shutting down"
CUT_OFF = "order.v1.OrderService/CreateOrder: CANCELLED: Locally cancelled by application"


def failed(sent: float, ended: float, error: str, name: str = "GetOrder") -> FailedRequest:
    return FailedRequest(
        at=ended,
        name=PREFIX + name,
        trace_id=f"{int(sent * 10):032x}",
        sampled=True,
        error=error,
        response_time_ms=(ended - sent) * 1000,
    )


def judge(
    failures: list[FailedRequest], server: ServerDrain | None = DRAINED
) -> checks.MethodCheck:
    return judge_drain(
        failures,
        moments=MOMENTS,
        rpc_prefix=PREFIX,
        component="order",
        server=server,
        server_note="VictoriaLogs did not answer",
    )


def test_refusals_after_the_signal_are_clean_and_nothing_in_flight_failed() -> None:
    check = judge(
        [
            failed(990.0, 990.5, CUT_OFF),  # before the fault: not this check's business
            failed(1000.5, 1000.6, REFUSED),  # sent while draining
            failed(1004.0, 1004.001, REFUSED.replace("the server is", "failed to connect")),
            failed(1011.0, 1011.2, CUT_OFF),  # after it was healthy again: the SLIs judge it
        ]
    )

    assert check.held, check.summary
    assert "0 of the 6 calls in flight" in check.summary
    rows = dict(check.observations)
    assert rows["failed calls sent while draining, by status"] == "UNAVAILABLE 1"
    assert rows["failed calls sent while down, by status"] == "UNAVAILABLE 1"
    assert rows["failed calls sent once healthy again, by status (not judged)"] == "CANCELLED 1"
    assert rows["server: calls running when SIGTERM arrived"] == "6"
    assert rows["server: of those, ended OK / with an error status"] == "5 / 1"


def test_a_call_sent_before_the_signal_that_failed_after_it_fails_the_check() -> None:
    cut = failed(999.2, 1001.0, CUT_OFF, name="CreateOrder")

    check = judge([cut, failed(1000.5, 1000.6, REFUSED)])

    assert not check.held
    assert "1 calls in flight when SIGTERM reached order failed" in check.summary
    assert f"CANCELLED trace {cut.trace_id}" in check.summary


def test_a_call_sent_after_the_signal_must_be_refused_with_unavailable_only() -> None:
    check = judge([failed(1003.0, 1003.1, "order.v1.OrderService/GetOrder: INTERNAL: boom")])

    assert not check.held
    assert "another status than UNAVAILABLE (INTERNAL trace" in check.summary


def test_the_servers_account_fails_it_when_calls_were_cut_off_or_none_ran() -> None:
    cut_off = judge([], server=ServerDrain(3, 1, 0, 0, left_running=2, seconds=19.0))
    idle = judge([], server=ServerDrain(0, 0, 0, 7, left_running=0, seconds=0.3))

    assert "2 calls were still running in order when its drain's grace" in cut_off.summary
    assert "the drill proved nothing about the drain" in idle.summary
    assert not cut_off.held
    assert not idle.held


def test_without_the_servers_account_the_client_side_is_judged_and_the_gap_named() -> None:
    check = judge([], server=None)

    assert check.held
    assert dict(check.observations)["server's account of the drain"] == (
        "not read: VictoriaLogs did not answer"
    )


def test_a_failure_line_without_a_response_time_cannot_pass_as_clean() -> None:
    untimed = FailedRequest(
        at=1001.0, name=PREFIX + "GetOrder", trace_id="e" * 32, sampled=True, error=REFUSED
    )

    assert "carry no response time" in judge([untimed]).summary


class FakeVictoriaLogs:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.queries: list[dict[str, list[str]]] = []
        self.url = ""


@pytest.fixture
def victorialogs() -> Iterator[FakeVictoriaLogs]:
    fake = FakeVictoriaLogs()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert self.path == "/select/logsql/query"
            form = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fake.queries.append(parse_qs(form))
            body = "".join(json.dumps(line) + "\n" for line in fake.lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/stream+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def drain_line(running: int) -> dict[str, str]:
    return {
        "_time": "2026-12-04T22:15:03.2Z",
        "_msg": "grpc drain finished",
        "service.name": "order",
        "drain.running_at_start": str(running),
        "drain.ended_ok": str(running),
        "drain.ended_with_error": "0",
        "drain.refused": "3",
        "drain.left_running": "0",
        "drain.seconds": "1.283",
    }


def signalled_order() -> None:
    note_moment("order", "signalled", 1000.0)
    note_moment("order", "exited", 1002.0)
    note_moment("order", "started", 1010.0)


def test_the_probe_reads_both_sides_and_leaves_its_check_for_the_report(
    run_directory: Path, victorialogs: FakeVictoriaLogs
) -> None:
    signalled_order()
    victorialogs.lines = [drain_line(running=4)]
    log = FailureLog(run_directory / "load" / "failures.jsonl")
    # Logged now, long after the restart: a failure the SLIs judge, not this check.
    log.record(
        name=PREFIX + "GetOrder",
        trace_id="a" * 32,
        sampled=True,
        error=REFUSED,
        response_time_ms=3.0,
    )

    result = in_flight_calls_completed(
        component="order",
        rpc_prefix=PREFIX,
        settle_seconds=0,
        configuration={"victorialogs_url": victorialogs.url},
    )

    assert result["held"] is True
    [query] = victorialogs.queries
    assert query["query"] == ['"service.name":="order" AND _msg:="grpc drain finished"']
    assert query["start"] == ["999.000"]
    [check] = checks.read_all(run_directory)
    assert check.name == "in-flight-order"
    assert dict(check.observations)["server: calls running when SIGTERM arrived"] == "4"


def test_the_probe_fails_its_activity_when_an_in_flight_call_failed(
    run_directory: Path, victorialogs: FakeVictoriaLogs
) -> None:
    signalled_order()
    victorialogs.lines = [drain_line(running=4)]
    failures = run_directory / "load" / "failures.jsonl"
    failures.parent.mkdir(parents=True)
    cut = failed(999.5, 1000.8, CUT_OFF)
    failures.write_text(json.dumps(asdict(cut)) + "\n")

    with pytest.raises(ActivityFailed, match="1 calls in flight when SIGTERM reached order"):
        in_flight_calls_completed(
            component="order",
            rpc_prefix=PREFIX,
            settle_seconds=0,
            configuration={"victorialogs_url": victorialogs.url},
        )
    assert not checks.read_all(run_directory)[0].held


def test_the_probe_refuses_to_judge_a_run_that_sent_no_signal(run_directory: Path) -> None:
    with pytest.raises(ActivityFailed, match="call signal_component first"):
        in_flight_calls_completed(component="order", rpc_prefix=PREFIX, settle_seconds=0)


def test_with_victorialogs_down_the_probe_judges_the_client_side_and_says_so(
    run_directory: Path,
) -> None:
    signalled_order()

    result = in_flight_calls_completed(
        component="order",
        rpc_prefix=PREFIX,
        settle_seconds=0,
        server_line_wait_seconds=0,
        configuration={"victorialogs_url": "http://127.0.0.1:9"},
    )

    assert result["held"] is True
    [check] = checks.read_all(run_directory)
    assert dict(check.observations)["server's account of the drain"].startswith(
        "not read: VictoriaLogs did not answer"
    )
