"""VictoriaLogs' LogsQL query API: the log records of one trace, as JSON objects.

`POST /select/logsql/query` answers one JSON object per line; each record keeps the OTLP
record's `trace_id`, `span_id`, `severity_text`/`severity_number`, `scope.name` and its
resource's `service.name` as fields. Field names with a dot are quoted in LogsQL
(`"service.name":="user"`); `:=` is an exact match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError, post_form

QUERY_PATH = "/select/logsql/query"
# OTel severity numbers: 13..16 WARN, 17..20 ERROR, 21..24 FATAL.
SEVERITY_WARN = 13
ACCESS_SCOPE = "observability.access"
_LIMIT = 1000


def trace_query(trace_id: str, service: str | None = None) -> str:
    """The LogsQL query for a trace's records (of one service, when given)."""
    query = f'trace_id:="{trace_id}"'
    return f'{query} AND "service.name":="{service}"' if service else query


def untraced_warnings_query(service: str) -> str:
    """A service's warning-or-worse records that carry no trace_id at all."""
    return f'"service.name":="{service}" AND severity_number:>={SEVERITY_WARN} AND trace_id:""'


def query(
    endpoints: Endpoints, logsql: str, *, start: float | None = None, end: float | None = None
) -> list[dict[str, Any]]:
    """Every record the query matches (start/end: unix seconds), oldest first."""
    form = {"query": logsql, "limit": str(_LIMIT)}
    if start is not None:
        form["start"] = f"{start:.3f}"
    if end is not None:
        form["end"] = f"{end:.3f}"
    url = f"{endpoints.victorialogs}{QUERY_PATH}"
    status, text = post_form(url, form)
    if status != 200:
        raise HttpError(url, status, text)
    return sorted(parse_lines(text.splitlines()), key=lambda record: str(record.get("_time", "")))


def parse_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The records of a query answer: one JSON object per non-empty line."""
    records = []
    for line in lines:
        if line.strip():
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records


def is_access_line(record: dict[str, Any]) -> bool:
    return record.get("scope.name") == ACCESS_SCOPE


def severity(record: dict[str, Any]) -> int:
    try:
        return int(record.get("severity_number", 0))
    except (TypeError, ValueError):
        return 0


def warnings_beyond_access(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warning-or-worse records that are not the access line: what a refusal must leave."""
    return [r for r in records if not is_access_line(r) and severity(r) >= SEVERITY_WARN]


def describe(record: dict[str, Any]) -> str:
    """`ERROR user_service.api.problems: unhandled error`, for a table's detail column."""
    message = str(record.get("_msg", "")).strip().splitlines()
    return (
        f"{record.get('severity_text', '?')} {record.get('scope.name', '?')}: "
        f"{message[0] if message else ''}"
    )
