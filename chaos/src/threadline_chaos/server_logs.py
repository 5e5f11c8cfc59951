"""A service's own log lines, read back from VictoriaLogs (where both stack modes send them).

A drill that needs the server's account of something (terminate-order: what the gRPC drain
did) asks VictoriaLogs' LogsQL API for the line by its message and service, within the drill's
time range. Each answer is one JSON object per line, every field a string.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

__all__ = ["LogsError", "log_lines"]

TIMEOUT_SECONDS = 10.0
SERVICE_FIELD = "service.name"


class LogsError(Exception):
    """VictoriaLogs did not answer or refused the query."""


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat()


def log_lines(
    base_url: str, *, service: str, message: str, start: float, end: float, limit: int = 50
) -> list[dict[str, str]]:
    """The lines of service whose message is exactly `message`, logged between start and end."""
    query = f"{SERVICE_FIELD}:={json.dumps(service)} _msg:={json.dumps(message)}"
    try:
        response = httpx.get(
            f"{base_url}/select/logsql/query",
            params={
                "query": query,
                "start": _rfc3339(start),
                "end": _rfc3339(end),
                "limit": str(limit),
            },
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise LogsError(f"VictoriaLogs at {base_url} did not answer ({error})") from error
    if response.status_code != 200:
        raise LogsError(
            f"VictoriaLogs refused {query!r} ({response.status_code}): {response.text[:200]}"
        )
    lines: list[dict[str, str]] = [
        json.loads(line) for line in response.text.splitlines() if line.strip()
    ]
    return sorted(lines, key=lambda line: line.get("_time", ""))
