"""Run one drill: `chaos run` on its experiment, then judge the run and write its report.

Chaos Toolkit does the run (hypothesis before and after, method, rollbacks always, journal,
controls); this module only prepares the run directory, starts `chaos run` as a child process,
and afterwards turns the journal and what the drill's activities left into a DrillRun.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from threadline_chaos import alerts, checks, journal, run_dir
from threadline_chaos.catalogue import Drill, validate
from threadline_chaos.endpoints import DEFAULTS
from threadline_chaos.failed_requests import failed_trace_ids
from threadline_chaos.reconcile import ReconcileTarget, reconcile
from threadline_chaos.record import DrillRun, DrillStatus, StackMode
from threadline_chaos.report import write_report
from threadline_chaos.stack_access import context
from threadline_chaos.verdict import verdict
from threadline_native.component_control import recorded_mode
from threadline_native.paths import find_project_root

ALERT_POLL_SECONDS = 5.0
# Beyond its own bound (load, warm-up, fault, recovery) a `chaos run` is stuck.
RUN_TIMEOUT_SECONDS = 900


def reports_root() -> Path:
    return find_project_root() / "reports" / "chaos"


def new_run_dir(drill: str, started: datetime) -> Path:
    path = reports_root() / drill / started.strftime("%Y%m%dT%H%M%SZ")
    path.mkdir(parents=True, exist_ok=True)
    return path


def chaos_command(experiment: Path, out: Path) -> list[str]:
    """`chaos run` as anyone would type it, with rollbacks always and the journal in out."""
    return [
        sys.executable,
        "-m",
        "chaostoolkit",
        "--log-file",
        str(out / "chaostoolkit.log"),
        "run",
        "--rollback-strategy",
        "always",
        "--journal-path",
        str(out / "journal.json"),
        str(experiment),
    ]


def run_chaos(experiment: Path, out: Path) -> int:
    """Run `chaos run`; Ctrl-C goes to it (same terminal) and we wait for its rollbacks."""
    env = {**os.environ, run_dir.ENV: str(out)}
    with subprocess.Popen(chaos_command(experiment, out), env=env) as child:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return child.wait(timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            # SIGTERM is an interruption to Chaos Toolkit: it plays the rollbacks.
            child.terminate()
            return child.wait(timeout=120)
        finally:
            signal.signal(signal.SIGINT, previous)


def run_drill(drill: Drill, *, experiment_file: Path | None = None) -> DrillRun:
    """Run the drill end to end and return its judged record (report written)."""
    validate(drill)
    started = datetime.now(UTC)
    out = new_run_dir(drill.name, started)
    run = DrillRun(
        drill=drill.name,
        hypothesis=drill.hypothesis,
        mode=StackMode(recorded_mode(context())),
        started_at=started,
        recovery_bound_s=drill.recovery_bound_seconds,
        alert_expectations=drill.alert_expectations,
        reconciliation_required=drill.reconcile,
        report_dir=out,
    )
    print(f"\n=== drill {drill.name}: {drill.hypothesis}\n    run directory: {out}\n", flush=True)
    run_chaos(experiment_file or drill.path, out)
    _fill_from_journal(run, out)
    _fill_alerts(run)
    if drill.reconcile and run.aborted_because is None:
        _fill_reconciliation(run)
    _fill_failed_requests(run, out)
    run.ended_at = datetime.now(UTC)
    notes = run.reasons
    run.status, run.reasons = verdict(run)
    run.reasons += notes
    if run.status is DrillStatus.PASSED and any(not n.startswith("(") for n in notes):
        # An activity of the method or the rollbacks failed: the drill did not do what it says.
        run.status = DrillStatus.FAILED
    try:
        write_report(
            run=run,
            out_dir=reports_root(),
            prometheus_url=DEFAULTS["prometheus_url"],
            jaeger_url=DEFAULTS["jaeger_url"],
        )
    except NotImplementedError:
        run.reasons.append("(no report: threadline_chaos.report is not implemented yet)")
    return run


def _fill_from_journal(run: DrillRun, out: Path) -> None:
    path = out / "journal.json"
    if not path.exists():
        run.aborted_because = "Chaos Toolkit wrote no journal (see chaostoolkit.log)"
        return
    record = journal.load(path)
    run.journal_path = path
    run.steady_state_before = journal.steady_state(record, "before")
    run.steady_state_after = journal.steady_state(record, "after")
    run.fault_window = journal.fault_window(record)
    run.method_checks = checks.read_all(out)
    recovery = journal.recovery(record)
    if recovery and recovery.get("recovered"):
        run.time_to_recover_s = float(recovery["seconds"])
    trip = out / run_dir.GUARD_TRIP_FILE
    if trip.exists():
        run.aborted_because = f"guard tripped: {trip.read_text().strip()}"
    elif record.get("status") == "interrupted":
        run.aborted_because = "interrupted (Ctrl-C, SIGTERM or a control); rollbacks were played"
    elif run.steady_state_before and not all(c.held for c in run.steady_state_before):
        run.aborted_because = "the steady state did not hold before the fault: nothing injected"
    run.reasons.extend(journal.failed_activities(record))


def _fill_alerts(run: DrillRun) -> None:
    """The alerts seen since the start; wait (bounded) for expected ones to fire and resolve."""
    base = DEFAULTS["alert_recorder_url"]
    fault_end = run.fault_window.end if run.fault_window else run.started_at
    deadline = time.time()
    # An aborted drill proves nothing about its alert: no reason to wait for one.
    for expectation in [] if run.aborted_because else run.alert_expectations:
        if expectation.must_fire and expectation.resolve_within_s is not None:
            deadline = max(deadline, fault_end.timestamp() + expectation.resolve_within_s)
    while True:
        run.alerts = alerts.recorded_since(base, run.started_at)
        if time.time() >= deadline or _expectations_settled(run):
            return
        time.sleep(ALERT_POLL_SECONDS)


def _expectations_settled(run: DrillRun) -> bool:
    for expectation in run.alert_expectations:
        names = [e for e in run.alerts if e.alertname == expectation.alertname]
        if expectation.must_fire and not any(e.status == "resolved" for e in names):
            return False
    return True


def _fill_reconciliation(run: DrillRun) -> None:
    try:
        run.reconciliation = asyncio.run(reconcile(target=ReconcileTarget.for_stack()))
    except NotImplementedError:
        run.reasons.append(
            "(reconciliation not run: threadline_chaos.reconcile is not implemented yet)"
        )
    except Exception as error:
        run.reasons.append(f"reconciliation could not run: {error}")


def _fill_failed_requests(run: DrillRun, out: Path) -> None:
    with contextlib.suppress(NotImplementedError, OSError):
        run.failed_requests, run.failed_trace_ids = failed_trace_ids(
            out / run_dir.LOAD_DIR, since=run.started_at, until=datetime.now(UTC)
        )


def print_verdict(run: DrillRun) -> None:
    colour = {DrillStatus.PASSED: "32", DrillStatus.FAILED: "31", DrillStatus.ABORTED: "33"}
    status = run.status or DrillStatus.FAILED
    text = status.value.upper()
    if sys.stdout.isatty():
        text = f"\033[{colour[status]}m{text}\033[0m"
    recovered = f"{run.time_to_recover_s:.1f}s" if run.time_to_recover_s is not None else "never"
    print(f"\nverdict {run.drill}: {text}")
    print(f"  hypothesis: {run.hypothesis}")
    if run.fault_window:
        print(f"  fault window: {run.fault_window.seconds:.0f}s")
    print(f"  time to recover: {recovered} (bound {run.recovery_bound_s:.0f}s)")
    if run.aborted_because:
        print(f"  aborted: {run.aborted_because}")
    if run.reconciliation is not None:
        state = "consistent" if run.reconciliation.consistent else "INCONSISTENT"
        print(
            f"  reconciliation: {state} (orders {run.reconciliation.orders_in_database}, "
            f"on topic {run.reconciliation.orders_on_topic}, "
            f"live in user stats {run.reconciliation.orders_in_user_stats})"
        )
    fired = sorted({f"{e.alertname} {e.status}" for e in run.alerts})
    print(f"  alerts: {', '.join(fired) or 'none'}")
    print(f"  failed requests: {run.failed_requests}")
    for reason in run.reasons:
        if run.aborted_because and run.aborted_because in reason:
            continue  # already said above
        print(f"  - {reason}")
    print(f"  report: {run.report_dir}")
