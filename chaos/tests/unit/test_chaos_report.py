"""report.md and the report directory: every section, the links, the alert timeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from threadline_chaos import alerts
from threadline_chaos.checks import MethodCheck
from threadline_chaos.record import (
    AlertEvent,
    AlertExpectation,
    DrillRun,
    DrillStatus,
    Reconciliation,
    StackMode,
    SteadyStateCheck,
    TimeWindow,
    utc_from_epoch,
)
from threadline_chaos.report import write_report
from threadline_chaos.report.alert_timeline import alert_timeline
from threadline_chaos.report.chart_data import panels
from threadline_chaos.report.markdown import MAX_TRACE_LINKS, ReportFiles, render
from threadline_native.net import free_port

FIXTURES = Path(__file__).parent / "fixtures"
START = utc_from_epoch(1767268800)
FAULT = TimeWindow(START + timedelta(seconds=60), START + timedelta(seconds=90))
JAEGER = "http://127.0.0.1:16686"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
RECONCILED = Reconciliation(
    orders_in_database=120,
    live_orders_in_database=117,
    orders_on_topic=120,
    events_on_topic=123,
    redelivered_records_on_topic=4,
    dead_lettered_records=0,
    events_in_inbox=123,
    orders_in_user_stats=117,
    cents_in_user_stats=35100,
    live_cents_in_database=35100,
    unpublished_outbox_rows=0,
    waited_s=2.5,
    in_flight=("2 users with orders no longer exist (not counted)",),
)


def recorded_alerts() -> list[AlertEvent]:
    return alerts.parse(json.loads((FIXTURES / "alert_recorder.json").read_text()))


def finished_run(**changes: object) -> DrillRun:
    run = DrillRun(
        drill="kill-order",
        hypothesis="Killing the order service loses no order and recovers within 30 s.",
        mode=StackMode.NATIVE,
        started_at=START,
        ended_at=START + timedelta(seconds=180),
        fault_window=FAULT,
        steady_state_before=[
            SteadyStateCheck("order availability", True, START, value=0.0, tolerance="<= 0.01")
        ],
        steady_state_after=[
            SteadyStateCheck("order availability", True, FAULT.end, value=None, tolerance="<= 0.01")
        ],
        time_to_recover_s=12.7,
        recovery_bound_s=30,
        alert_expectations=[AlertExpectation("SLOErrorBudgetBurnFast", resolve_within_s=120)],
        alerts=recorded_alerts(),
        reconciliation=RECONCILED,
        failed_trace_ids=[TRACE],
        failed_requests=3,
        status=DrillStatus.PASSED,
    )
    for name, value in changes.items():
        setattr(run, name, value)
    return run


def rendered(run: DrillRun, files: ReportFiles | None = None) -> str:
    return render(
        run,
        files=files or ReportFiles(chart="chart.png", journal="journal.json"),
        panels=panels(),
        jaeger_url=JAEGER,
        prometheus_url="http://127.0.0.1:9090",
    )


def test_the_recorder_payload_becomes_a_timeline_timed_from_the_fault() -> None:
    (fired, resolved) = alert_timeline(recorded_alerts(), FAULT)

    assert (fired.alertname, fired.status, fired.offset_s) == (
        "SLOErrorBudgetBurnFast",
        "firing",
        15.5,
    )
    assert (resolved.status, resolved.offset_s) == ("resolved", 90.0)
    assert fired.labels == "service=order, slo=availability, severity=page"
    assert alert_timeline(recorded_alerts(), None)[0].offset_s is None


def test_the_report_has_every_section_in_order() -> None:
    text = rendered(finished_run())

    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Drill kill-order: PASSED",
        "## Verdict",
        "## Timeline",
        "## Recovery",
        "## Steady state",
        "## Alerts",
        "## Reconciliation",
        "## Failed requests",
        "## Chart",
        "## Files",
    ]
    assert "**Hypothesis.** Killing the order service loses no order" in text
    assert "Every check held." in text


def test_the_timeline_orders_fault_recovery_and_alerts_by_time() -> None:
    text = rendered(finished_run())

    events = [
        line.rsplit("|", 2)[-2].strip()
        for line in text.split("## Timeline")[1].split("##")[0].splitlines()
        if line.startswith("| ") and "event" not in line
    ]
    assert events == [
        "drill started",
        "fault injected",
        "alert SLOErrorBudgetBurnFast firing",
        "fault rolled back",
        "steady state recovered",
        "alert SLOErrorBudgetBurnFast resolved",
        "drill ended",
    ]
    assert "| 12:01:42.700 | +102.7 | steady state recovered |" in text


def test_recovery_alerts_and_steady_state_give_their_numbers() -> None:
    text = rendered(finished_run())

    assert "| 30.0 s | 12.7 s (within the bound) | 30 s |" in text
    assert "- SLOErrorBudgetBurnFast: must fire, resolve within 120 s of its end" in text
    assert "| 12:01:15.500 | +16 | SLOErrorBudgetBurnFast | firing |" in text
    assert "| before | order availability | 0 | <= 0.01 | yes |" in text
    assert "| after | order availability | no data | <= 0.01 | yes |" in text


def test_reconciliation_counts_problems_and_in_flight_are_listed() -> None:
    text = rendered(finished_run())
    assert "The data is **consistent**." in text
    assert "| distinct events on orders.v1 (records redelivered) | 123 (4) |" in text
    assert "| cents in the user statistics / in live orders | 35100 / 35100 |" in text
    assert "- 2 users with orders no longer exist (not counted)" in text

    broken = Reconciliation(
        **{**RECONCILED.__dict__, "problems": ("1 outbox rows were left unpublished",)}
    )
    text = rendered(finished_run(reconciliation=broken, status=DrillStatus.FAILED))
    assert "The data is **INCONSISTENT**." in text
    assert "Problems:\n- 1 outbox rows were left unpublished" in text


def test_each_failed_trace_links_to_jaeger_and_a_flood_is_capped() -> None:
    text = rendered(finished_run())
    assert "3 requests failed, in 1 traces" in text
    assert f"- [{TRACE}]({JAEGER}/trace/{TRACE})" in text

    many = [f"{i:032x}" for i in range(MAX_TRACE_LINKS + 7)]
    text = rendered(finished_run(failed_trace_ids=many, failed_requests=len(many)))
    assert text.count(f"]({JAEGER}/trace/") == MAX_TRACE_LINKS
    assert "- ... and 7 more traces" in text


def test_the_verdict_reasons_chart_and_journal_are_linked() -> None:
    run = finished_run(status=DrillStatus.FAILED, reasons=["alert X never fired"])
    text = rendered(run)

    assert "# Drill kill-order: FAILED" in text
    assert "## Verdict\n\n- alert X never fired" in text
    assert "![request rate, error ratio and p99; the fault window shaded](chart.png)" in text
    assert "- Chaos Toolkit journal: [journal.json](journal.json)" in text
    assert "http://127.0.0.1:9090/graph?g0.expr=" in text

    text = rendered(run, ReportFiles(chart=None, journal=None, chart_notes=["p99: refused"]))
    assert "No chart was drawn.\n\nNot plotted:\n- p99: refused" in text
    assert "none (Chaos Toolkit wrote no journal)" in text


@pytest.fixture
def prometheus() -> Iterator[str]:
    """A Prometheus stand-in answering every range query with the stored answer."""
    body = json.dumps(
        json.loads((FIXTURES / "prometheus_query_range.json").read_text())["request_rate"]
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path.startswith("/api/v1/query_range?") else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_write_report_fills_the_run_directory(tmp_path: Path, prometheus: str) -> None:
    journal = tmp_path / "elsewhere" / "journal.json"
    journal.parent.mkdir()
    journal.write_text('{"status": "completed"}')

    path = write_report(
        run=finished_run(journal_path=journal),
        out_dir=tmp_path / "reports",
        prometheus_url=prometheus,
        jaeger_url=JAEGER,
    )

    assert path == tmp_path / "reports" / "kill-order" / "20260101T120000Z" / "report.md"
    assert (path.parent / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert (path.parent / "journal.json").read_text() == '{"status": "completed"}'
    assert "![request rate" in path.read_text()


def test_without_prometheus_the_report_is_written_and_says_why(tmp_path: Path) -> None:
    run = finished_run(report_dir=tmp_path / "run")

    path = write_report(
        run=run,
        out_dir=tmp_path / "unused",
        prometheus_url=f"http://127.0.0.1:{free_port()}",
        jaeger_url=JAEGER,
    )

    assert path == tmp_path / "run" / "report.md"
    assert not (path.parent / "chart.png").exists()
    text = path.read_text()
    assert "No chart was drawn." in text
    assert "did not answer" in text


def test_each_method_check_gets_a_section_with_what_it_observed() -> None:
    drained = MethodCheck(
        name="in-flight-order",
        held=False,
        summary="1 calls in flight when SIGTERM reached order failed (CANCELLED trace ab12)",
        observations=(("SIGTERM sent", "22:15:01.250"), ("server: drain took", "1.28 s")),
    )

    text = rendered(finished_run(method_checks=[drained]))

    section = text.split("## Check: in-flight-order\n\n")[1].split("\n## ")[0]
    assert section.startswith("**did not hold**: 1 calls in flight when SIGTERM reached order")
    assert "| SIGTERM sent | 22:15:01.250 |" in section
    assert "| server: drain took | 1.28 s |" in section
    assert text.index("## Steady state") < text.index("## Check: in-flight-order")
    assert text.index("## Check: in-flight-order") < text.index("## Alerts")
