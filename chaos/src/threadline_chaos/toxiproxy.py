"""A small client of Toxiproxy's HTTP API: list proxies, add and remove toxics, reset.

chaostoolkit-toxiproxy (0.3.1, last released 2023) was tried and not used: its calls carry no
timeout (a stalled API hangs the drill), a refused toxic surfaces as a TypeError on None rather
than the API's message, and it would add requests and logzero for five HTTP calls.
"""

from __future__ import annotations

from typing import Any

import httpx

TIMEOUT_SECONDS = 5.0
TOXIC_TYPES = (
    "latency",
    "timeout",
    "reset_peer",
    "bandwidth",
    "slow_close",
    "slicer",
    "limit_data",
)


class ToxiproxyError(Exception):
    """The API did not answer or refused the request; the message says what to do."""


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return httpx.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as error:
        raise ToxiproxyError(
            f"Toxiproxy at {url} did not answer ({error}); run `make up`"
        ) from error


def proxies(base_url: str) -> dict[str, dict[str, Any]]:
    """Every proxy by name (GET /proxies)."""
    response = _request("GET", f"{base_url}/proxies")
    response.raise_for_status()
    found: dict[str, dict[str, Any]] = response.json()
    return found


def add_toxic(
    base_url: str,
    *,
    proxy: str,
    name: str,
    toxic_type: str,
    attributes: dict[str, int],
    stream: str = "downstream",
    toxicity: float = 1.0,
) -> dict[str, Any]:
    """Add one toxic to a proxy; its API record."""
    if toxic_type not in TOXIC_TYPES:
        raise ToxiproxyError(f"unknown toxic type {toxic_type!r}; one of {', '.join(TOXIC_TYPES)}")
    if stream not in ("upstream", "downstream"):
        raise ToxiproxyError(f"stream must be upstream or downstream, not {stream!r}")
    known = proxies(base_url)
    if proxy not in known:
        raise ToxiproxyError(
            f"no Toxiproxy proxy {proxy!r}; the stack created: {', '.join(sorted(known)) or 'none'}"
        )
    body = {
        "name": name,
        "type": toxic_type,
        "stream": stream,
        "toxicity": toxicity,
        "attributes": attributes,
    }
    response = _request("POST", f"{base_url}/proxies/{proxy}/toxics", json=body)
    if response.status_code >= 400:
        raise ToxiproxyError(
            f"Toxiproxy refused toxic {name!r} on {proxy}: {response.text.strip()}"
        )
    record: dict[str, Any] = response.json()
    return record


def remove_toxic(base_url: str, *, proxy: str, name: str) -> bool:
    """Remove one toxic; False when it was not there."""
    response = _request("DELETE", f"{base_url}/proxies/{proxy}/toxics/{name}")
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return True


def toxics(base_url: str) -> dict[str, list[str]]:
    """The names of the toxics on each proxy that has any."""
    return {
        name: [toxic["name"] for toxic in proxy.get("toxics", [])]
        for name, proxy in proxies(base_url).items()
        if proxy.get("toxics")
    }


def reset(base_url: str) -> None:
    """Remove every toxic and re-enable every proxy (POST /reset)."""
    _request("POST", f"{base_url}/reset").raise_for_status()
