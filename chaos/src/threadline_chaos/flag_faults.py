"""Chaos Toolkit actions that switch the services' own fault flags on and off at run time.

A flag makes a share of one route's or RPC's calls fail (503 problem+json / UNAVAILABLE) or adds
latency, inside the service; each carries a TTL, so even a drill killed outright leaves none on
for longer than that.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from threadline_chaos import admin_api
from threadline_chaos.endpoints import ADMIN_PORTS

__all__ = ["clear_fault_flags", "set_fault_flag"]


def _admin_url(process: str) -> str:
    if process not in ADMIN_PORTS:
        raise ValueError(f"unknown process {process!r}; one of {', '.join(ADMIN_PORTS)}")
    return f"http://127.0.0.1:{ADMIN_PORTS[process]}"


def set_fault_flag(
    *,
    process: str,
    target: str,
    error_ratio: float = 0.0,
    latency_ms: int = 0,
    ttl_seconds: int = 120,
) -> dict[str, Any]:
    """Switch a fault flag on in one process (user, order...) for target ("*" for every route)."""
    try:
        return admin_api.set_fault(
            _admin_url(process),
            target=target,
            error_ratio=error_ratio,
            latency_ms=latency_ms,
            ttl_seconds=ttl_seconds,
        )
    except admin_api.AdminApiError as error:
        raise ActivityFailed(str(error)) from error


def clear_fault_flags(*, processes: list[str] | None = None) -> dict[str, int | str]:
    """Switch every fault flag off in each process (all by default); how many each had on."""
    cleared: dict[str, int | str] = {}
    for process in processes or list(ADMIN_PORTS):
        try:
            cleared[process] = admin_api.clear_faults(_admin_url(process))
        except admin_api.AdminApiError as error:
            # A process that does not answer holds no flag we could clear; say so, go on.
            cleared[process] = f"not reached: {error}"
    return cleared
