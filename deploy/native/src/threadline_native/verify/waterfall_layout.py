"""What a trace waterfall shows, computed from Jaeger's trace JSON and VictoriaLogs records.

Only plain data here (rows, offsets, which log line belongs to which row); `waterfall` draws it.
A span's parent is its CHILD_OF reference within the trace; failing that, a FOLLOWS_FROM one (a
Kafka consumer that links its producer instead of continuing its trace). A span whose referenced
parent is absent, or that only links another trace, starts a tree of its own and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["LogLine", "Row", "Waterfall", "layout"]

MAX_ROWS = 60
MAX_LOG_LINES = 40
ERROR_STATUS = "ERROR"


@dataclass(frozen=True)
class Row:
    span_id: str
    service: str
    operation: str
    # client, server, producer, consumer or internal ("" when the span has no span.kind tag).
    kind: str
    depth: int
    start_ms: float
    duration_ms: float
    error: bool
    # How the span joins the tree: "child", "follows" (FOLLOWS_FROM), "root", "orphan" (its
    # parent is not in the trace) or "linked" (it only references another trace).
    relation: str


@dataclass(frozen=True)
class LogLine:
    offset_ms: float
    service: str
    severity: str
    message: str
    span_id: str
    # Index in Waterfall.rows of the span that wrote it; None when that span is not drawn.
    row: int | None


@dataclass(frozen=True)
class Waterfall:
    trace_id: str
    rows: list[Row]
    # Spans of the trace left out to keep the chart readable, and how many of them failed.
    omitted: int
    omitted_errors: int
    total_ms: float
    # Services in order of their first row: the legend's order and its colours.
    services: list[str]
    logs: list[LogLine]
    omitted_logs: int


def layout(
    trace: Mapping[str, Any],
    logs: Sequence[Mapping[str, Any]],
    *,
    max_rows: int = MAX_ROWS,
    max_log_lines: int = MAX_LOG_LINES,
) -> Waterfall:
    """Rows in parent/child order with depth and ms offsets, and the log lines placed on them."""
    trace_id = str(trace.get("traceID", ""))
    spans = {str(span["spanID"]): span for span in trace.get("spans", [])}
    start_us = min((int(span["startTime"]) for span in spans.values()), default=0)
    end_us = max((int(s["startTime"]) + int(s["duration"]) for s in spans.values()), default=0)
    processes = trace.get("processes", {})

    children: dict[str, list[str]] = {span_id: [] for span_id in spans}
    tops: list[tuple[str, str]] = []
    relations: dict[str, str] = {}
    for span_id, span in spans.items():
        parent, relation = _parent(span, trace_id, spans)
        relations[span_id] = relation
        if parent is None:
            tops.append((span_id, relation))
        else:
            children[parent].append(span_id)

    def by_start(span_id: str) -> tuple[int, str]:
        return int(spans[span_id]["startTime"]), span_id

    ordered: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(top: str) -> None:
        stack = [(top, 0)]
        while stack:
            span_id, depth = stack.pop()
            if span_id in seen:
                continue
            seen.add(span_id)
            ordered.append((span_id, depth))
            stack.extend(
                (child, depth + 1)
                for child in sorted(children[span_id], key=by_start, reverse=True)
            )

    for top, _ in sorted(tops, key=lambda item: by_start(item[0])):
        visit(top)
    # Spans on a reference cycle are reachable from no top: draw each as an orphan.
    for span_id in sorted(set(spans) - seen, key=by_start):
        relations[span_id] = "orphan"
        visit(span_id)

    rows = [
        _row(spans[span_id], depth, relations[span_id], start_us, processes)
        for span_id, depth in ordered
    ]
    shown, left_out = rows[:max_rows], rows[max_rows:]
    services = list(dict.fromkeys(row.service for row in shown))
    row_of = {row.span_id: index for index, row in enumerate(shown)}
    lines = sorted(
        (_log_line(record, start_us, row_of) for record in logs),
        key=lambda line: line.offset_ms,
    )
    return Waterfall(
        trace_id=trace_id,
        rows=shown,
        omitted=len(left_out),
        omitted_errors=sum(row.error for row in left_out),
        total_ms=(end_us - start_us) / 1000,
        services=services,
        logs=lines[:max_log_lines],
        omitted_logs=max(0, len(lines) - max_log_lines),
    )


def _parent(
    span: Mapping[str, Any], trace_id: str, spans: Mapping[str, Any]
) -> tuple[str | None, str]:
    references = span.get("references") or []
    for ref_type, relation in (("CHILD_OF", "child"), ("FOLLOWS_FROM", "follows")):
        for reference in references:
            same_trace = str(reference.get("traceID", trace_id)) == trace_id
            parent = str(reference.get("spanID", ""))
            if reference.get("refType") == ref_type and same_trace and parent in spans:
                return parent, relation
    if not references:
        return None, "root"
    if any(str(reference.get("traceID", trace_id)) == trace_id for reference in references):
        return None, "orphan"
    return None, "linked"


def _tags(span: Mapping[str, Any]) -> dict[str, Any]:
    return {str(tag.get("key")): tag.get("value") for tag in span.get("tags") or []}


def _row(
    span: Mapping[str, Any],
    depth: int,
    relation: str,
    start_us: int,
    processes: Mapping[str, Any],
) -> Row:
    tags = _tags(span)
    process = processes.get(str(span.get("processID", "")), {})
    return Row(
        span_id=str(span["spanID"]),
        service=str(process.get("serviceName", "?")),
        operation=str(span.get("operationName", "")),
        kind=str(tags.get("span.kind", "")),
        depth=depth,
        start_ms=(int(span["startTime"]) - start_us) / 1000,
        duration_ms=int(span["duration"]) / 1000,
        error=tags.get("error") in (True, "true")
        or str(tags.get("otel.status_code", "")).upper() == ERROR_STATUS,
        relation=relation,
    )


def _log_line(record: Mapping[str, Any], start_us: int, row_of: Mapping[str, int]) -> LogLine:
    span_id = str(record.get("span_id", ""))
    return LogLine(
        offset_ms=(_epoch_us(str(record.get("_time", ""))) - start_us) / 1000,
        service=str(record.get("service.name", "?")),
        severity=str(record.get("severity_text", "")),
        message=str(record.get("_msg", "")),
        span_id=span_id,
        row=row_of.get(span_id),
    )


def _epoch_us(rfc3339: str) -> int:
    """Microseconds since the epoch of VictoriaLogs' `_time` (RFC 3339 with nanoseconds, Z)."""
    # fromisoformat takes at most six fractional digits; VictoriaLogs writes nine.
    whole, _, fraction = rfc3339.removesuffix("Z").partition(".")
    seconds = datetime.fromisoformat(f"{whole}+00:00").timestamp()
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])
