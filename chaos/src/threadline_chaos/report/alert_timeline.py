"""The alert timeline: each alert the recorder saw, timed from the start of the fault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from threadline_chaos.record import AlertEvent, TimeWindow


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    offset_s: float | None  # seconds since the fault began (negative: before); None: no fault
    alertname: str
    status: str
    labels: str  # the labels that tell alerts of one name apart (service, slo, severity)


_SHOWN_LABELS = ("service", "slo", "severity", "job", "instance")


def alert_timeline(
    alerts: list[AlertEvent], fault_window: TimeWindow | None
) -> list[TimelineEntry]:
    """The alerts in the order they were received, each timed from the start of the fault."""
    return [
        TimelineEntry(
            at=alert.received_at,
            offset_s=(
                (alert.received_at - fault_window.start).total_seconds() if fault_window else None
            ),
            alertname=alert.alertname,
            status=alert.status,
            labels=", ".join(
                f"{key}={alert.labels[key]}" for key in _SHOWN_LABELS if key in alert.labels
            ),
        )
        for alert in sorted(alerts, key=lambda alert: alert.received_at)
    ]
