"""The verdict of a drill run: passed, failed or aborted, with every reason.

Aborted when a guard halted the drill or the steady state did not hold before the fault (the
drill then proves nothing about the fault). Failed when the system did not recover within the
drill's bound, an expected alert did not fire or resolve in time (or one that must stay silent
fired), or the data does not reconcile. Every reason is one sentence with the numbers.
"""

from __future__ import annotations

from threadline_chaos.record import AlertEvent, AlertExpectation, DrillRun, DrillStatus, TimeWindow


def verdict(run: DrillRun) -> tuple[DrillStatus, list[str]]:
    """Judge the run: steady state, recovery bound, expected alerts, reconciliation."""
    if run.aborted_because:
        return DrillStatus.ABORTED, [f"aborted: {run.aborted_because}"]
    broken_before = [check.name for check in run.steady_state_before if not check.held]
    if broken_before:
        return DrillStatus.ABORTED, [
            f"the steady state did not hold before the fault ({', '.join(broken_before)})"
        ]
    reasons = [*_recovery_reasons(run), *_alert_reasons(run), *_reconciliation_reasons(run)]
    return (DrillStatus.FAILED if reasons else DrillStatus.PASSED), reasons


def _recovery_reasons(run: DrillRun) -> list[str]:
    if run.fault_window is None:
        return ["the fault was never injected"]
    broken_after = [check.name for check in run.steady_state_after if not check.held]
    if run.time_to_recover_s is None:
        # No recovery time and nothing broken after: the steady state held throughout.
        if broken_after:
            return [f"the steady state did not recover ({', '.join(broken_after)})"]
        return []
    if run.time_to_recover_s > run.recovery_bound_s:
        return [
            f"recovered in {run.time_to_recover_s:.1f} s, over the bound of "
            f"{run.recovery_bound_s:.0f} s"
        ]
    if broken_after:
        return [f"the steady state broke again after recovering ({', '.join(broken_after)})"]
    return []


def _alert_reasons(run: DrillRun) -> list[str]:
    return [
        reason
        for expectation in run.alert_expectations
        for reason in _judge_alert(expectation, run.alerts, run.fault_window)
    ]


def _judge_alert(
    expectation: AlertExpectation, alerts: list[AlertEvent], fault: TimeWindow | None
) -> list[str]:
    name = expectation.alertname
    mine = sorted((a for a in alerts if a.alertname == name), key=lambda a: a.received_at)
    fired = [a for a in mine if a.firing and _began_in_fault(a, fault)]
    if not expectation.must_fire:
        if fired:
            return [f"alert {name} fired at {fired[0].received_at:%H:%M:%S} but must stay silent"]
        return []
    if not fired:
        return [f"alert {name} never fired"]
    first = fired[0]
    reasons: list[str] = []
    if fault is not None and expectation.fire_within_s is not None:
        delay = (first.received_at - fault.start).total_seconds()
        if delay > expectation.fire_within_s:
            reasons.append(
                f"alert {name} fired {delay:.0f} s after the fault began, "
                f"later than {expectation.fire_within_s:.0f} s"
            )
    if expectation.resolve_within_s is None:
        return reasons
    resolved = [
        a
        for a in mine
        if not a.firing and a.labels == first.labels and a.received_at >= first.received_at
    ]
    if not resolved:
        return [*reasons, f"alert {name} fired but never resolved"]
    if fault is not None:
        delay = (resolved[0].received_at - fault.end).total_seconds()
        if delay > expectation.resolve_within_s:
            reasons.append(
                f"alert {name} resolved {delay:.0f} s after the fault ended, "
                f"later than {expectation.resolve_within_s:.0f} s"
            )
    return reasons


def _began_in_fault(event: AlertEvent, fault: TimeWindow | None) -> bool:
    """Whether this drill's fault can have caused the alert.

    Alertmanager re-sends an alert still firing from an earlier drill whenever its group changes,
    so the time Prometheus says it began decides, not the time the notification came.
    """
    began = event.starts_at or event.received_at
    return fault is None or began >= fault.start


def _reconciliation_reasons(run: DrillRun) -> list[str]:
    if not run.reconciliation_required:
        return []
    if run.reconciliation is None:
        return ["the data was not reconciled"]
    return [f"reconciliation: {problem}" for problem in run.reconciliation.problems]
