"""What the verdict reads back: a Chaos Toolkit journal and the alert recorder's notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from threadline_chaos import alerts, journal


def _run(name: str, func: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "activity": {"name": name, "provider": {"type": "python", "func": func}},
        "start": start,
        "end": end,
        "status": "succeeded",
        **extra,
    }


JOURNAL: dict[str, Any] = {
    "status": "completed",
    "steady_states": {
        "before": {
            "probes": [
                {
                    "activity": {
                        "name": "order-availability",
                        "tolerance": {"type": "range", "range": [0.0, 0.0144]},
                    },
                    "output": 0.002,
                    "start": "2026-12-04T18:00:00+00:00",
                    "tolerance_met": True,
                }
            ]
        },
        "after": {
            "probes": [
                {
                    "activity": {
                        "name": "order-availability",
                        "tolerance": {"type": "range", "range": [0.0, 0.0144]},
                    },
                    "output": 0.2,
                    "start": "2026-12-04T18:01:30+00:00",
                    "tolerance_met": False,
                }
            ]
        },
    },
    "run": [
        _run(
            "kill-order",
            "signal_component",
            "2026-12-04T18:00:10+00:00",
            "2026-12-04T18:00:10.5+00:00",
        ),
        _run("down", "idle_for", "2026-12-04T18:00:10.5+00:00", "2026-12-04T18:00:25+00:00"),
        {
            **_run(
                "restart",
                "start_component",
                "2026-12-04T18:00:25+00:00",
                "2026-12-04T18:00:31+00:00",
            ),
            "status": "failed",
            "exception": ["Traceback ...\n", "ActivityFailed: order exited during start-up\n"],
        },
        _run(
            "recovery",
            "await_recovery",
            "2026-12-04T18:00:31+00:00",
            "2026-12-04T18:01:29+00:00",
            output={"recovered": True, "seconds": 12.5, "bound_seconds": 60},
        ),
    ],
    "rollbacks": [],
}


def test_the_fault_window_runs_from_the_first_activity_to_the_recovery_wait() -> None:
    window = journal.fault_window(JOURNAL)
    assert window is not None
    assert window.start == datetime(2026, 12, 4, 18, 0, 10, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 4, 18, 0, 31, tzinfo=UTC)


def test_steady_state_checks_keep_value_tolerance_and_outcome() -> None:
    (before,) = journal.steady_state(JOURNAL, "before")
    (after,) = journal.steady_state(JOURNAL, "after")
    assert (before.name, before.value, before.held) == ("order-availability", 0.002, True)
    assert before.tolerance == "0.0 <= x <= 0.0144"
    assert (after.value, after.held) == (0.2, False)


def test_recovery_and_failed_activities_are_read() -> None:
    assert journal.recovery(JOURNAL) == {"recovered": True, "seconds": 12.5, "bound_seconds": 60}
    assert journal.failed_activities(JOURNAL) == [
        "run restart: ActivityFailed: order exited during start-up"
    ]


def test_a_journal_without_a_method_has_no_fault_window() -> None:
    assert journal.fault_window({"run": []}) is None


def test_recorded_notifications_become_one_event_per_alert() -> None:
    firing = {
        "status": "firing",
        "labels": {
            "alertname": "SLOErrorBudgetBurnFast",
            "service": "order",
            "slo": "availability",
        },
        "startsAt": "2026-12-04T18:02:10.5Z",
        "endsAt": "0001-01-01T00:00:00Z",
    }
    resolved = {**firing, "status": "resolved", "endsAt": "2026-12-04T18:08:00Z"}
    notifications = [
        {"received_at": 1796407400.0, "receiver": "page", "payload": {"alerts": [resolved]}},
        {"received_at": 1796407000.0, "receiver": "page", "payload": {"alerts": [firing]}},
    ]
    first, second = alerts.parse(notifications)
    assert (first.alertname, first.status, first.ends_at) == (
        "SLOErrorBudgetBurnFast",
        "firing",
        None,
    )
    assert first.starts_at == datetime(2026, 12, 4, 18, 2, 10, 500000, tzinfo=UTC)
    assert first.labels["service"] == "order"
    assert (second.status, second.ends_at) == ("resolved", datetime(2026, 12, 4, 18, 8, tzinfo=UTC))
    assert first.received_at < second.received_at


def test_an_unreachable_recorder_gives_no_events() -> None:
    assert alerts.recorded_since("http://127.0.0.1:9", datetime.now(UTC)) == []
