"""The Collector-outage probes: which log lines count as export failures, which spans lost their
parent, and the numbers with which the log check fails a drill. No stack needed."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from chaoslib.exceptions import ActivityFailed

from threadline_chaos import checks, telemetry_outage
from threadline_chaos.stack_access import PROCESS_COMPONENTS
from threadline_chaos.telemetry_outage import (
    ExportLines,
    check_export_log_lines,
    count_export_lines,
    orphan_spans,
)

from .conftest import FakePrometheus


def _line(logger: str, message: str, *, level: str = "INFO", ago: float = 10) -> str:
    # Stamped when the test runs, not when the module is collected: in a full `make test` the
    # two are minutes apart, which put the lines outside the probe's window.
    moment = (datetime.now(UTC) - timedelta(seconds=ago)).isoformat(timespec="milliseconds")
    return json.dumps(
        {"timestamp": moment.replace("+00:00", "Z"), "level": level, "logger": logger,
         "message": message}
    )  # fmt: skip


def _failing() -> str:
    return _line("observability.export_health", "telemetry export failing", level="WARNING")


def _recovered() -> str:
    return _line("observability.export_health", "telemetry export recovered")


def _sdk_retry() -> str:
    return _line(
        "opentelemetry.exporter.otlp.proto.grpc.exporter", "Transient error", level="WARNING"
    )


def test_export_failure_and_recovery_lines_are_counted_in_the_window() -> None:
    lines = [
        "collector started (not JSON)",
        _failing(),
        _failing(),
        _sdk_retry(),
        _line("opentelemetry.sdk._shared_internal", "Queue full, dropping", level="WARNING"),
        _recovered(),
        _line("observability.export_health", "telemetry export failing", level="WARNING", ago=900),
        _line("user_service.api", "GET /v1/users/1 200"),
    ]

    now = datetime.now(UTC)
    counted = count_export_lines(lines, since=now - timedelta(seconds=60), until=now)

    assert counted == ExportLines(failures=4, recoveries=1)


def test_a_span_whose_parent_is_missing_is_named() -> None:
    trace = {
        "spans": [
            {"spanID": "a", "operationName": "CreateOrder",
             "references": [{"refType": "CHILD_OF", "spanID": "caller"}]},
            {"spanID": "b", "operationName": "GET /v1/users/{id}",
             "references": [{"refType": "CHILD_OF", "spanID": "a"}]},
            {"spanID": "c", "operationName": "SELECT users",
             "references": [{"refType": "CHILD_OF", "spanID": "lost"}]},
        ]
    }  # fmt: skip

    assert orphan_spans(trace, caller_span_id="caller") == ["SELECT users"]


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Each process's log, written to tmp_path where the probe looks for it."""
    written: dict[str, list[str]] = {
        p: [_failing(), _failing(), _recovered()] for p in PROCESS_COMPONENTS
    }
    layout = SimpleNamespace(log_file=lambda name: tmp_path / f"{name}.log")

    def write() -> SimpleNamespace:
        for process, lines in written.items():
            (tmp_path / f"{process}.log").write_text("\n".join(lines) + "\n")
        return SimpleNamespace(layout=layout)

    monkeypatch.setattr(telemetry_outage, "context", write)
    return written


def test_two_lines_per_process_hold_and_the_losses_are_reported(
    logs: dict[str, list[str]], prometheus: FakePrometheus, run_directory: Path
) -> None:
    prometheus.vector(1200)

    result = check_export_log_lines(
        window_seconds=120, configuration={"prometheus_url": prometheus.url}
    )

    assert result["lines"]["order"] == {"failures": 2, "recoveries": 1}
    assert any("telemetry_items_dropped_total[120s]" in q for q in prometheus.queries)
    (check,) = checks.read_all(run_directory)
    assert check.held
    assert ("order: failure / recovery lines", "2 / 1") in check.observations


def test_a_process_logging_per_retry_fails_the_drill(
    logs: dict[str, list[str]], prometheus: FakePrometheus, run_directory: Path
) -> None:
    logs["user-consumer"] = [_failing(), _sdk_retry(), _sdk_retry(), _recovered()]

    with pytest.raises(ActivityFailed, match="user-consumer 3"):
        check_export_log_lines(window_seconds=120, configuration={"prometheus_url": prometheus.url})

    assert not checks.read_all(run_directory)[0].held


def test_a_process_that_never_recovered_fails_the_drill(
    logs: dict[str, list[str]], prometheus: FakePrometheus, run_directory: Path
) -> None:
    logs["order-relay"] = [_failing()]

    with pytest.raises(ActivityFailed, match="no recovery line from order-relay"):
        check_export_log_lines(
            window_seconds=120,
            recovery_wait_seconds=1.5,
            configuration={"prometheus_url": prometheus.url},
        )


def test_a_quiet_process_recovering_after_the_check_began_is_waited_for(
    logs: dict[str, list[str]],
    prometheus: FakePrometheus,
    run_directory: Path,
    tmp_path: Path,
) -> None:
    logs["user-consumer"] = [_failing(), _failing()]

    def recover_later() -> None:
        with (tmp_path / "user-consumer.log").open("a") as log:
            log.write(_recovered() + "\n")

    later = threading.Timer(1.5, recover_later)
    later.start()
    try:
        result = check_export_log_lines(
            window_seconds=120, configuration={"prometheus_url": prometheus.url}
        )
    finally:
        later.cancel()

    assert result["lines"]["user-consumer"] == {"failures": 2, "recoveries": 1}
    (check,) = checks.read_all(run_directory)
    waited = dict(check.observations)["waited for the recovery lines (s)"]
    assert 1.0 <= float(waited) < 30


def test_the_trace_is_sent_only_once_the_trace_exporters_are_up_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings = iter([0.0, 1.0, 1.0, 1.0])  # order still down at the first look
    monkeypatch.setattr(telemetry_outage, "read_sample", lambda *_a, **_k: next(readings))
    monkeypatch.setattr("threadline_chaos.telemetry_outage.time.sleep", lambda _s: None)

    assert telemetry_outage._await_exporters_up(5) >= 0


def test_exporters_still_down_fail_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry_outage, "read_sample", lambda *_a, **_k: 0.0)

    with pytest.raises(ActivityFailed, match="not up 0 s after"):
        telemetry_outage._await_exporters_up(0)
