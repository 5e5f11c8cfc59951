"""A client of the services' admin API for fault flags (/admin/faults on the admin ports)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_SECONDS = 5.0
ACTOR = "chaos-drill"


class AdminApiError(Exception):
    """The admin port did not answer or refused the request; the message says what to do."""


def admin_token() -> str | None:
    """The token the stack's admin ports ask for: the file THREADLINE_ADMIN_TOKEN_FILE names
    (as Prometheus reads it), else none (the ports then accept loopback callers only)."""
    path = os.environ.get("THREADLINE_ADMIN_TOKEN_FILE")
    token = Path(path).read_text().strip() if path else ""
    return token or None


def _headers() -> dict[str, str]:
    token = admin_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return httpx.request(method, url, headers=_headers(), timeout=TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as error:
        raise AdminApiError(
            f"admin port at {url} did not answer ({error}); run `make up`"
        ) from error


def set_fault(
    base_url: str,
    *,
    target: str,
    error_ratio: float = 0.0,
    latency_ms: int = 0,
    ttl_seconds: int = 120,
) -> dict[str, Any]:
    """Switch one fault flag on; the Fault record the service answers."""
    body = {
        "target": target,
        "error_ratio": error_ratio,
        "latency_ms": latency_ms,
        "ttl_seconds": ttl_seconds,
        "actor": ACTOR,
    }
    response = _request("POST", f"{base_url}/admin/faults", json=body)
    if response.status_code != 201:
        raise AdminApiError(
            f"{base_url} refused fault {target!r} ({response.status_code}): "
            f"{response.text.strip()[:300]}"
        )
    fault: dict[str, Any] = response.json()
    return fault


def clear_faults(base_url: str) -> int:
    """Switch every fault flag of one process off; how many were on."""
    response = _request("DELETE", f"{base_url}/admin/faults")
    if response.status_code != 200:
        raise AdminApiError(f"{base_url} refused to clear faults ({response.status_code})")
    cleared: int = response.json().get("cleared", 0)
    return cleared


def active_faults(base_url: str) -> list[dict[str, Any]]:
    """The fault flags on now."""
    response = _request("GET", f"{base_url}/admin/faults")
    response.raise_for_status()
    faults: list[dict[str, Any]] = response.json()["faults"]
    return faults
