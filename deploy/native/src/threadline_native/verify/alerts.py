"""The alert path: Alertmanager routes an alert by severity to the webhook recorder."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import get_json, request
from threadline_native.verify.result import Result, eventually, guarded


def _probe_alert(marker: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "labels": {
            "alertname": "ThreadlineVerifyProbe",
            "severity": "page",
            "service": "verify",
            "slo": "probe",
            "verify_id": marker,
        },
        "annotations": {"summary": "Posted by make verify; resolves by itself in a minute."},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=1)).isoformat(),
    }


def _receivers(endpoints: Endpoints, marker: str) -> list[str]:
    """The receivers the recorder saw our alert reach, in order."""
    entries = get_json(f"{endpoints.alert_recorder}/alerts")
    return [
        entry["receiver"]
        for entry in entries
        for fired in entry["payload"].get("alerts", [])
        if fired.get("labels", {}).get("verify_id") == marker
    ]


def alert_reaches_webhook(endpoints: Endpoints, timeout: float) -> Result:
    """An alert posted to Alertmanager is routed by severity and reaches the webhook recorder."""
    check, subject = "alert -> Alertmanager -> webhook", "severity=page route"
    marker = secrets.token_hex(6)

    def run() -> Result:
        alert = _probe_alert(marker)
        status, body = request("POST", f"{endpoints.alertmanager}/api/v2/alerts", body=[alert])
        if status != 200:
            return Result.judged(check, subject, False, f"Alertmanager answered {status}: {body}")
        receivers = eventually(lambda: _receivers(endpoints, marker), bool, timeout)
        detail = f"received by {receivers[0]!r}" if receivers else "never reached the recorder"
        return Result.judged(check, subject, receivers[:1] == ["page"], detail)

    return guarded(check, subject, run)
