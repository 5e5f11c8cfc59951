"""The Alertmanager notifications the webhook recorder stored (GET /alerts), as AlertEvents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from threadline_chaos.record import AlertEvent, utc_from_epoch

TIMEOUT_SECONDS = 5.0
# Alertmanager writes this for "not resolved yet".
_ZERO_TIME = "0001-01-01T00:00:00Z"


def _time(text: str | None) -> datetime | None:
    if not text or text == _ZERO_TIME:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse(notifications: list[dict[str, Any]]) -> list[AlertEvent]:
    """One AlertEvent per alert per notification, oldest first."""
    events = [
        AlertEvent(
            alertname=alert.get("labels", {}).get("alertname", "?"),
            status=alert.get("status", "?"),
            received_at=utc_from_epoch(entry["received_at"]),
            starts_at=_time(alert.get("startsAt")),
            ends_at=_time(alert.get("endsAt")) if alert.get("status") == "resolved" else None,
            receiver=entry.get("receiver", ""),
            labels=dict(alert.get("labels", {})),
        )
        for entry in notifications
        for alert in entry.get("payload", {}).get("alerts", [])
    ]
    return sorted(events, key=lambda event: event.received_at)


def recorded_since(base_url: str, since: datetime) -> list[AlertEvent]:
    """The events received at or after since; empty when the recorder does not answer."""
    try:
        response = httpx.get(f"{base_url}/alerts", timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
    except httpx.HTTPError:
        return []
    return [event for event in parse(response.json()) if event.received_at >= since]
