"""Chaos Toolkit probes on the real Prometheus: SLIs from the SLO rules, guards, recovery.

Steady state is "no SLO burns its error budget at paging speed": each SLI over a short window
stays below 14.4 times its budget, the fast-burn threshold of the SLO alerts.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import run_dir
from threadline_chaos.endpoints import endpoint
from threadline_chaos.prometheus import PrometheusError, query, single_value
from threadline_chaos.sli import UnknownSliError, sli_error_ratio_expr

__all__ = ["await_recovery", "guard_clear", "sli_error_ratio"]

RECOVERY_POLL_SECONDS = 2.0
# One window for the hypothesis and the recovery wait: a shorter recovery window would declare
# recovery while the hypothesis that runs right after still sees the outage in its window.
STEADY_WINDOW = "30s"


def _ratio(url: str, service: str, slo: str, window: str) -> float | None:
    try:
        return single_value(query(url, sli_error_ratio_expr(service, slo, window)))
    except UnknownSliError as error:
        raise ActivityFailed(str(error)) from error


def sli_error_ratio(
    *, service: str, slo: str, window: str = "30s", configuration: Configuration = None
) -> float:
    """The share of bad events of (service, slo) over window; fails when there was no traffic."""
    url = endpoint(configuration, "prometheus_url")
    try:
        ratio = _ratio(url, service, slo, window)
    except PrometheusError as error:
        raise ActivityFailed(str(error)) from error
    if ratio is None:
        raise ActivityFailed(f"no {service} traffic in the last {window}: nothing to judge")
    return ratio


def guard_clear(*, name: str, expression: str, configuration: Configuration = None) -> bool:
    """True while the guard expression selects nothing; on a trip, record it for the verdict.

    A guard is a PromQL filter, e.g. `min_over_time(<error ratio>[30s:5s]) > 0.5`: any sample
    means the system is being run into the ground. A guard that cannot be evaluated counts as
    tripped: a drill does not go on blind.
    """
    url = endpoint(configuration, "prometheus_url")
    try:
        samples = query(url, expression)
    except PrometheusError as error:
        run_dir.write_json(
            run_dir.GUARD_TRIP_FILE,
            {"guard": name, "expression": expression, "at": time.time(), "error": str(error)},
        )
        return False
    if samples:
        run_dir.write_json(
            run_dir.GUARD_TRIP_FILE,
            {
                "guard": name,
                "expression": expression,
                "at": time.time(),
                "samples": [{"labels": s.labels, "value": s.value} for s in samples],
            },
        )
        return False
    return True


def await_recovery(
    *,
    checks: list[dict[str, Any]],
    bound_seconds: float,
    window: str = STEADY_WINDOW,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Poll the SLIs until every one is back within its bound; how long that took.

    checks: [{service, slo, max_ratio}]. Call it right after the fault is undone; the time
    includes the window's lag (a 30 s window holds errors for up to 30 s after they stop).
    """
    url = endpoint(configuration, "prometheus_url")
    began = time.monotonic()
    deadline = began + bound_seconds
    last: dict[str, float | None] = {}
    result: dict[str, Any]
    while True:
        healthy = True
        for check in checks:
            key = f"{check['service']}/{check['slo']}"
            try:
                ratio = _ratio(url, check["service"], check["slo"], window)
            except PrometheusError:
                ratio = None
            last[key] = ratio
            if ratio is None or ratio > float(check["max_ratio"]):
                healthy = False
        elapsed = time.monotonic() - began
        if healthy:
            result = {
                "recovered": True,
                "seconds": round(elapsed, 1),
                "bound_seconds": bound_seconds,
            }
            break
        if time.monotonic() >= deadline:
            result = {"recovered": False, "seconds": None, "bound_seconds": bound_seconds}
            break
        time.sleep(RECOVERY_POLL_SECONDS)
    result["last"] = last
    run_dir.write_json("recovery.json", result)
    return result
