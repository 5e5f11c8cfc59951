"""A probe that times the outbox backlog draining after what held the relay back is gone.

The order API process watches the outbox (`outbox_backlog_events`,
`outbox_oldest_event_age_seconds`, read from the database every second) whatever the relay is
doing, so its admin port shows the backlog a frozen or stopped relay left behind.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import checks, run_dir
from threadline_chaos.admin_metrics import AdminMetricsError, read_exposition, sample_in

__all__ = ["await_outbox_drained"]

WATCHING_PROCESS = "order"
POLL_SECONDS = 0.25


def _backlog(admin_url: str | None) -> tuple[float | None, float | None]:
    # Both gauges from one reading, so the count and the age describe the same moment.
    exposition = read_exposition(WATCHING_PROCESS, url=admin_url)
    events = sample_in(exposition, "outbox_backlog_events", {})
    return events, sample_in(exposition, "outbox_oldest_event_age_seconds", {})


def _drained_check(result: dict[str, Any]) -> checks.MethodCheck:
    found, age = result["backlog_events_at_start"], result["oldest_age_at_start_s"]
    return checks.MethodCheck(
        name="outbox-drained",
        held=True,
        summary=(
            f"the backlog of {found or 0:g} rows (the oldest {age or 0:.0f} s old) drained "
            f"{result['drained_after_s']:.1f} s after {result['counted_from']}"
        ),
        observations=(
            ("backlog found (rows)", f"{found or 0:g}"),
            ("oldest row found (s)", f"{age or 0:.1f}"),
            ("drained after (s)", f"{result['drained_after_s']:.2f}"),
            ("rows left, all under 2 s old", f"{result['backlog_events_after'] or 0:g}"),
        ),
    )


def await_outbox_drained(
    *,
    bound_seconds: float,
    settled_age_seconds: float = 2.0,
    counted_from: str = "the relay was let go",
    admin_url: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Wait until the oldest unpublished outbox row is younger than settled_age_seconds.

    Call it right after the relay is resumed or started, or its broker is back (counted_from
    names that moment in the report): the first reading is the backlog left (the gauges are at
    most a second old), the time is from then. Under load the outbox is never quite empty
    (orders keep arriving), so "drained" means nothing old is left.
    """
    began = time.monotonic()
    first: tuple[float | None, float | None] | None = None
    last: tuple[float | None, float | None] = (None, None)
    error = ""
    while True:
        try:
            last = _backlog(admin_url)
            error = ""
        except AdminMetricsError as failure:
            error = str(failure)
        if first is None and last[0] is not None:
            first = last
        elapsed = time.monotonic() - began
        events, age = last
        if age is not None and age <= settled_age_seconds:
            result = {
                "backlog_events_at_start": first[0] if first else None,
                "oldest_age_at_start_s": first[1] if first else None,
                "drained_after_s": round(elapsed, 2),
                "backlog_events_after": events,
                "bound_seconds": bound_seconds,
                "counted_from": counted_from,
            }
            run_dir.write_json("outbox-drain.json", result)
            checks.record(_drained_check(result))
            return result
        if elapsed >= bound_seconds:
            seen = f"{events or 0:g} rows, the oldest {age:.1f} s old" if age is not None else error
            summary = (
                f"the outbox backlog did not drain within {bound_seconds:.0f} s: "
                f"{seen or 'the order admin port shows no outbox gauges'}"
            )
            checks.record(checks.MethodCheck(name="outbox-drained", held=False, summary=summary))
            raise ActivityFailed(summary)
        time.sleep(POLL_SECONDS)
