"""JSON over HTTP on loopback with the standard library: all `make verify` needs from a client."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

TIMEOUT_SECONDS = 10.0


class HttpError(Exception):
    """A request that failed or answered with an unexpected status."""

    def __init__(self, url: str, status: int | None, body: str) -> None:
        super().__init__(f"{url} -> {status or 'no answer'}: {body[:300]}")
        self.status = status


def request(
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    body: object | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request; return (status, decoded JSON or text). Raises HttpError on no answer."""
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    # Only http:// URLs on loopback are ever built here (Endpoints, journeys).
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as error:
        with error:  # an HTTPError holds the response open until closed
            return error.code, _decode(error.read())
    except (OSError, urllib.error.URLError) as error:
        raise HttpError(url, None, str(error)) from error


def post_form(url: str, form: Mapping[str, str]) -> tuple[int, str]:
    """POST an HTML form; return (status, body text) undecoded (for JSON-lines answers)."""
    data = urllib.parse.urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as error:
        raise HttpError(url, None, str(error)) from error


def get_json(url: str, params: Mapping[str, str] | None = None) -> Any:
    """GET that must answer 200 with JSON."""
    status, payload = request("GET", url, params=params)
    if status != 200:
        raise HttpError(url, status, str(payload))
    return payload


def _decode(raw: bytes) -> Any:
    text = raw.decode(errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
