"""Log links: each service's log lines for a trace are found by its trace_id.

Natively the log store is VictoriaLogs; under compose the collector also feeds Loki, and both
must answer. A refusal on purpose must leave more than the access line: a warning or error
line of the refusing service, with the refused request's trace_id.
"""

from __future__ import annotations

import time
from typing import Any

from threadline_native.verify import loki, victorialogs
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.journeys import Journey
from threadline_native.verify.result import Result, eventually, guarded

# Records are queried from a little before the journey began (clocks, batching).
LOOKBACK_SECONDS = 60.0
# After the access line (written last, when the request ends) is queryable, one more look
# this much later: a line written earlier in the request went out in the same or an earlier
# batch, so it is there by then or never.
SETTLE_SECONDS = 3.0


def _lines(count: int) -> str:
    return f"{count} line" + ("" if count == 1 else "s")


def trace_records(
    endpoints: Endpoints, journey: Journey, service: str | None = None
) -> list[dict[str, Any]]:
    """The journey's log records in VictoriaLogs (of one service, when given)."""
    return victorialogs.query(
        endpoints,
        victorialogs.trace_query(journey.trace_id, service),
        start=journey.started_at - LOOKBACK_SECONDS,
    )


def logs_in_stores(
    endpoints: Endpoints, mode: Mode, journey: Journey, timeout: float
) -> list[Result]:
    """Every service the journey went through has log lines with its trace_id in each store."""
    results = [_in_victorialogs(endpoints, journey, s, timeout) for s in journey.services]
    if mode is Mode.COMPOSE:
        results += [_in_loki(endpoints, journey, s, timeout) for s in journey.services]
    return results


def _in_victorialogs(
    endpoints: Endpoints, journey: Journey, service: str, timeout: float
) -> Result:
    check, subject = "logs in VictoriaLogs by trace_id", f"{journey.name} / {service}"

    def run() -> Result:
        records = eventually(lambda: trace_records(endpoints, journey, service), bool, timeout)
        beyond = len(records) - sum(victorialogs.is_access_line(r) for r in records)
        detail = f"{_lines(len(records))} ({beyond} beyond the access line)"
        return Result.judged(check, subject, bool(records), detail)

    return guarded(check, subject, run)


def _in_loki(endpoints: Endpoints, journey: Journey, service: str, timeout: float) -> Result:
    check, subject = "logs in Loki by trace_id", f"{journey.name} / {service}"

    def run() -> Result:
        lines = eventually(
            lambda: loki.trace_lines(endpoints, service, journey.trace_id, journey.started_at),
            lambda n: n > 0,
            timeout,
        )
        return Result.judged(check, subject, lines > 0, _lines(lines))

    return guarded(check, subject, run)


def refusal_logged(endpoints: Endpoints, journey: Journey, timeout: float) -> Result:
    """The refusing service logged a warning or error line (not the access line) in the trace."""
    service = journey.refused_by or ""
    check, subject = "refusal's warning line by trace_id", f"{journey.name} / {service}"

    def run() -> Result:
        records = eventually(
            lambda: trace_records(endpoints, journey, service),
            lambda found: any(map(victorialogs.is_access_line, found)),
            timeout,
        )
        warnings = victorialogs.warnings_beyond_access(records)
        if not warnings:
            time.sleep(SETTLE_SECONDS)
            warnings = victorialogs.warnings_beyond_access(
                trace_records(endpoints, journey, service)
            )
        if warnings:
            return Result.judged(check, subject, True, victorialogs.describe(warnings[0]))
        return Result.judged(check, subject, False, _why_missing(endpoints, journey, records))

    return guarded(check, subject, run)


def _why_missing(endpoints: Endpoints, journey: Journey, records: list[dict[str, Any]]) -> str:
    """What the trace holds instead, and any warning of the service in those seconds with no
    trace_id at all (a line written outside the request's span context)."""
    service = journey.refused_by or ""
    held = "; ".join(victorialogs.describe(r) for r in records) or "nothing"
    untraced = victorialogs.query(
        endpoints,
        victorialogs.untraced_warnings_query(service),
        start=journey.started_at - 1,
        end=journey.started_at + 15,
    )
    detail = f"no warning/error line of {service} with this trace_id; the trace holds: {held}"
    if untraced:
        lines = "; ".join(dict.fromkeys(victorialogs.describe(r) for r in untraced))
        detail += f"; logged in the same seconds WITHOUT trace_id: {lines}"
    return detail
