"""A small client of Toxiproxy's HTTP API on loopback (standard library only).

What the stack (populate, `stack ps`), the proxies' tests and the pass-through benchmark need;
chaos drills use Chaos Toolkit's own Toxiproxy extension against the same API.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8474"
TIMEOUT_SECONDS = 5.0


class ToxiproxyError(OSError):
    """The API did not answer, or refused the request (its status and message included)."""


class ToxiproxyApi:
    """Toxiproxy's API at `url`."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = url.rstrip("/")

    def proxies(self) -> dict[str, Any]:
        """Every proxy by name, with its listen, upstream, enabled flag and toxics."""
        result: dict[str, Any] = self._call("GET", "/proxies")
        return result

    def populate(self, config: str) -> list[dict[str, Any]]:
        """Create or update the proxies of a `-config` document; identical ones are kept."""
        result: dict[str, Any] = self._call("POST", "/populate", config.encode())
        proxies: list[dict[str, Any]] = result.get("proxies", [])
        return proxies

    def create_proxy(self, *, name: str, listen: str, upstream: str) -> dict[str, Any]:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": True}
        result: dict[str, Any] = self._call("POST", "/proxies", json.dumps(body).encode())
        return result

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}")

    def set_enabled(self, name: str, *, enabled: bool) -> None:
        self._call("POST", f"/proxies/{name}", json.dumps({"enabled": enabled}).encode())

    def add_toxic(
        self,
        proxy: str,
        *,
        name: str,
        kind: str,
        attributes: dict[str, int | float],
        stream: str = "downstream",
    ) -> None:
        body = {"name": name, "type": kind, "stream": stream, "attributes": attributes}
        self._call("POST", f"/proxies/{proxy}/toxics", json.dumps(body).encode())

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        # Only http:// URLs on loopback are built here.
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as error:
            with error:
                detail = error.read().decode(errors="replace")[:300]
            raise ToxiproxyError(f"{method} {path}: {error.code} {detail}") from error
        except (OSError, urllib.error.URLError) as error:
            raise ToxiproxyError(f"{method} {self.url}{path}: {error}") from error
        return json.loads(payload) if payload.strip() else None
