"""Structured logs: one JSON object per line on stdout, joined to traces by trace_id/span_id.

Every line carries ``timestamp``, ``level``, ``service``, ``logger``, ``message``, ``trace_id``
and ``span_id`` (``null`` outside a span) followed by the record's own fields (``extra=``).
A line about an exception that escaped a traced request, written by the server once the
request's span has ended, carries that request's ids (`observability.escaped`).
The same records go out as OTLP logs (`observability.otlp_log_handler`); both handlers share
one `RedactionFilter`, so neither ever sees a secret.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import orjson

from observability.encodable import encodable
from observability.escaped import span_context_of_record
from observability.redaction import _RECORD_ATTRIBUTES, RedactionFilter, Redactor

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider

    from observability.settings import ObservabilitySettings

__all__ = [
    "ConsoleFormatter",
    "JsonFormatter",
    "configure_logging",
    "iso_timestamp",
]


_second_prefix: tuple[int, str] = (-1, "")


def iso_timestamp(created: float) -> str:
    """``2026-11-21T12:00:00.123Z`` for a `time.time()` value."""
    global _second_prefix  # noqa: PLW0603 - a one-entry cache shared by every log line
    second = int(created)
    cached_second, prefix = _second_prefix
    if second != cached_second:
        # strftime over gmtime is several times cheaper than datetime.isoformat, and lines
        # written in the same second share it.
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_prefix = (second, prefix)
    return f"{prefix}.{int(created % 1 * 1000):03d}Z"


def _trace_ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    context = span_context_of_record(record)
    if context is None:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    """Format a record as one compact JSON object (orjson: ~5x cheaper than json.dumps)."""

    def __init__(self, *, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = _trace_ids(record)
        document: dict[str, Any] = {
            "timestamp": iso_timestamp(record.created),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": trace_id,
            "span_id": span_id,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in document:
                document[key] = value
        if record.exc_info:
            # Only reached when no RedactionFilter turned the exception into fields already.
            document["exception.stacktrace"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(document, default=str).decode()
        except TypeError:  # orjson refuses unpaired surrogates; the rare line pays the walk
            return orjson.dumps(encodable(document), default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """A one-line human format for local development, still showing the trace_id."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(trace)s] %(message)s%(fields)s")

    def format(self, record: logging.LogRecord) -> str:
        trace_id, _ = _trace_ids(record)
        vars(record)["trace"] = trace_id or "-"
        fields = {
            key: value
            for key, value in vars(record).items()
            if key not in _RECORD_ATTRIBUTES and key not in {"trace", "fields"}
        }
        vars(record)["fields"] = f" {fields}" if fields else ""
        try:
            return super().format(record)
        finally:
            # Other handlers (OTLP) must not see the console's helper attributes.
            del vars(record)["trace"], vars(record)["fields"]


def configure_logging(
    settings: ObservabilitySettings,
    *,
    logger_provider: LoggerProvider | None,
    redactor: Redactor | None = None,
) -> list[logging.Handler]:
    """Install the stdout handler (then the OTLP one) on the root logger; return them in order."""
    redaction = RedactionFilter(redactor)
    stdout = logging.StreamHandler(sys.stdout)
    stdout.setFormatter(
        JsonFormatter(service=settings.service_name)
        if settings.log_format == "json"
        else ConsoleFormatter()
    )
    handlers: list[logging.Handler] = [stdout]
    if logger_provider is not None:
        from observability.otlp_log_handler import OtlpLogHandler  # noqa: PLC0415

        handlers.append(OtlpLogHandler(logger_provider=logger_provider))
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(redaction)
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handlers
