"""Reading a Chaos Toolkit journal: the steady-state checks, the fault window, the recovery."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from threadline_chaos.record import SteadyStateCheck, TimeWindow

RECOVERY_FUNC = "await_recovery"


def load(path: Path) -> dict[str, Any]:
    journal: dict[str, Any] = json.loads(path.read_text())
    return journal


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _tolerance_text(tolerance: Any) -> str:
    if isinstance(tolerance, dict) and tolerance.get("type") == "range":
        low, high = tolerance["range"]
        return f"{low} <= x <= {high}"
    return json.dumps(tolerance)


def steady_state(journal: dict[str, Any], phase: str) -> list[SteadyStateCheck]:
    """The probes of the hypothesis run before or after the method ('before' / 'after')."""
    section = (journal.get("steady_states") or {}).get(phase) or {}
    checks = []
    for probe in section.get("probes", []):
        output = probe.get("output")
        checks.append(
            SteadyStateCheck(
                name=probe["activity"]["name"],
                held=bool(probe.get("tolerance_met")),
                checked_at=_moment(probe["start"]),
                value=float(output) if isinstance(output, int | float) else None,
                tolerance=_tolerance_text(probe["activity"].get("tolerance")),
            )
        )
    return checks


def _func(run: dict[str, Any]) -> str:
    return str(run["activity"].get("provider", {}).get("func", ""))


def fault_window(journal: dict[str, Any]) -> TimeWindow | None:
    """From the method's first activity to the start of the recovery wait (or the method's end)."""
    runs = journal.get("run") or []
    if not runs:
        return None
    end_run = next((r for r in runs if _func(r) == RECOVERY_FUNC), None)
    end = _moment(end_run["start"]) if end_run else _moment(runs[-1]["end"])
    return TimeWindow(start=_moment(runs[0]["start"]), end=end)


def recovery(journal: dict[str, Any]) -> dict[str, Any] | None:
    """The recovery probe's output: {recovered, seconds, bound_seconds, last}."""
    for run in journal.get("run") or []:
        if _func(run) == RECOVERY_FUNC and isinstance(run.get("output"), dict):
            output: dict[str, Any] = run["output"]
            return output
    return None


def failed_activities(journal: dict[str, Any]) -> list[str]:
    """Method and rollback activities that failed, each with its error's last line."""
    failed = []
    for section in ("run", "rollbacks"):
        for run in journal.get(section) or []:
            if run.get("status") == "failed":
                error = "".join(run.get("exception") or []).strip().splitlines()
                failed.append(f"{section} {run['activity']['name']}: {error[-1] if error else '?'}")
    return failed
