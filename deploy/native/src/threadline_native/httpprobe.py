"""Small HTTP helpers on loopback for health probes and checks, standard library only."""

from __future__ import annotations

import urllib.error
import urllib.request

from threadline_native.net import LOOPBACK


def http_ok(port: int, path: str, *, expect: str | None = None, timeout: float = 2.0) -> bool:
    """True when GET http://127.0.0.1:port/path answers 2xx (and contains `expect`, if given)."""
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=timeout) as response:
            if not 200 <= response.status < 300:
                return False
            return expect is None or expect in response.read(65536).decode(errors="replace")
    except (OSError, urllib.error.URLError, ValueError):
        return False
