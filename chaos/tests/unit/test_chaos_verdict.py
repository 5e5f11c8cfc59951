"""The verdict: each rule can fail a drill on its own, and says why with the numbers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from threadline_chaos.record import (
    AlertEvent,
    AlertExpectation,
    DrillRun,
    DrillStatus,
    Reconciliation,
    StackMode,
    SteadyStateCheck,
    TimeWindow,
)
from threadline_chaos.verdict import verdict

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FAULT = TimeWindow(T0 + timedelta(seconds=30), T0 + timedelta(seconds=60))
CONSISTENT = Reconciliation(
    orders_in_database=3,
    live_orders_in_database=3,
    orders_on_topic=3,
    events_on_topic=3,
    redelivered_records_on_topic=0,
    dead_lettered_records=0,
    events_in_inbox=3,
    orders_in_user_stats=3,
    cents_in_user_stats=300,
    live_cents_in_database=300,
    unpublished_outbox_rows=0,
    waited_s=0.5,
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def check(name: str, *, held: bool) -> SteadyStateCheck:
    return SteadyStateCheck(name=name, held=held, checked_at=T0)


def alert(status: str, seconds: float, name: str = "OrderAvailabilityBurn") -> AlertEvent:
    return AlertEvent(
        alertname=name, status=status, received_at=at(seconds), starts_at=at(seconds), ends_at=None
    )


def good_run(**changes: object) -> DrillRun:
    run = DrillRun(
        drill="kill-order",
        hypothesis="orders keep flowing",
        mode=StackMode.NATIVE,
        started_at=T0,
        ended_at=at(120),
        fault_window=FAULT,
        steady_state_before=[check("availability", held=True)],
        steady_state_after=[check("availability", held=True)],
        time_to_recover_s=12.0,
        recovery_bound_s=60.0,
        alert_expectations=[
            AlertExpectation("OrderAvailabilityBurn", fire_within_s=20, resolve_within_s=40)
        ],
        alerts=[alert("firing", 40), alert("resolved", 90)],
        reconciliation=CONSISTENT,
    )
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


def test_a_run_that_meets_every_rule_passes() -> None:
    assert verdict(good_run()) == (DrillStatus.PASSED, [])


def test_a_tripped_guard_aborts_whatever_else_happened() -> None:
    status, reasons = verdict(good_run(aborted_because="error ratio > 50% for 30 s"))

    assert status is DrillStatus.ABORTED
    assert reasons == ["aborted: error ratio > 50% for 30 s"]


def test_a_steady_state_broken_before_the_fault_aborts() -> None:
    status, reasons = verdict(good_run(steady_state_before=[check("latency", held=False)]))

    assert status is DrillStatus.ABORTED
    assert reasons == ["the steady state did not hold before the fault (latency)"]


def test_recovering_later_than_the_bound_fails_with_both_numbers() -> None:
    status, reasons = verdict(good_run(time_to_recover_s=75.3))

    assert status is DrillStatus.FAILED
    assert reasons == ["recovered in 75.3 s, over the bound of 60 s"]


def test_never_recovering_fails_naming_the_broken_probe() -> None:
    status, reasons = verdict(
        good_run(time_to_recover_s=None, steady_state_after=[check("availability", held=False)])
    )

    assert status is DrillStatus.FAILED
    assert reasons == ["the steady state did not recover (availability)"]


def test_holding_throughout_needs_no_recovery_time() -> None:
    assert verdict(good_run(time_to_recover_s=None))[0] is DrillStatus.PASSED


def test_a_fault_never_injected_fails() -> None:
    assert verdict(good_run(fault_window=None))[1] == ["the fault was never injected"]


def test_an_expected_alert_that_never_fired_fails() -> None:
    status, reasons = verdict(good_run(alerts=[alert("firing", 40, name="Other")]))

    assert status is DrillStatus.FAILED
    assert reasons == ["alert OrderAvailabilityBurn never fired"]


def test_an_alert_that_fired_before_the_fault_does_not_count() -> None:
    _, reasons = verdict(good_run(alerts=[alert("firing", 10), alert("resolved", 20)]))

    assert reasons == ["alert OrderAvailabilityBurn never fired"]


def test_an_alert_left_firing_by_an_earlier_drill_is_not_this_drills() -> None:
    # Re-sent during this drill (its group changed) but begun before the fault: not ours.
    left_over = dataclasses.replace(alert("firing", 40), starts_at=at(-300))
    silent = AlertExpectation("OrderAvailabilityBurn", must_fire=False)

    assert verdict(good_run(alerts=[left_over]))[1] == ["alert OrderAvailabilityBurn never fired"]
    assert verdict(good_run(alert_expectations=[silent], alerts=[left_over]))[0] is (
        DrillStatus.PASSED
    )


def test_only_the_same_alert_resolving_counts() -> None:
    ours = dataclasses.replace(alert("firing", 40), labels={"slo": "availability"})
    other_resolved = dataclasses.replace(alert("resolved", 50), labels={"slo": "latency"})

    _, reasons = verdict(good_run(alerts=[ours, other_resolved]))

    assert reasons == ["alert OrderAvailabilityBurn fired but never resolved"]


def test_an_alert_firing_late_fails_with_its_delay() -> None:
    _, reasons = verdict(good_run(alerts=[alert("firing", 55), alert("resolved", 90)]))

    assert reasons == [
        "alert OrderAvailabilityBurn fired 25 s after the fault began, later than 20 s"
    ]


def test_an_alert_that_never_resolved_fails() -> None:
    _, reasons = verdict(good_run(alerts=[alert("firing", 40)]))

    assert reasons == ["alert OrderAvailabilityBurn fired but never resolved"]


def test_an_alert_resolving_late_fails_with_its_delay() -> None:
    _, reasons = verdict(good_run(alerts=[alert("firing", 40), alert("resolved", 150)]))

    assert reasons == [
        "alert OrderAvailabilityBurn resolved 90 s after the fault ended, later than 40 s"
    ]


def test_an_alert_that_must_stay_silent_fails_when_it_fires() -> None:
    silent = AlertExpectation("OrderAvailabilityBurn", must_fire=False)

    status, reasons = verdict(good_run(alert_expectations=[silent]))

    assert status is DrillStatus.FAILED
    assert reasons == ["alert OrderAvailabilityBurn fired at 12:00:40 but must stay silent"]
    assert verdict(good_run(alert_expectations=[silent], alerts=[]))[0] is DrillStatus.PASSED


def test_each_reconciliation_problem_is_a_reason() -> None:
    broken = dataclasses.replace(
        CONSISTENT, problems=("1 outbox rows were left unpublished", "2 orders have no event")
    )

    status, reasons = verdict(good_run(reconciliation=broken))

    assert status is DrillStatus.FAILED
    assert reasons == [
        "reconciliation: 1 outbox rows were left unpublished",
        "reconciliation: 2 orders have no event",
    ]


def test_a_missing_reconciliation_fails_unless_the_drill_needs_none() -> None:
    assert verdict(good_run(reconciliation=None))[1] == ["the data was not reconciled"]
    assert verdict(good_run(reconciliation=None, reconciliation_required=False))[0] is (
        DrillStatus.PASSED
    )
