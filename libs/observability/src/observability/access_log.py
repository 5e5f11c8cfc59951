"""The access log: one line per request or RPC its `AccessPolicy` wants.

The HTTP middleware and the gRPC interceptor write it under the logger name
``observability.access`` so that every trace the backend keeps, and every failed or slow
request, finds its service's log line (with the same ``trace_id``) on stdout and in the log
store (which ones: `observability.access_policy`). At sampling 1.0 that is one line
per request, so the line takes a short path: where `observability.setup` configured JSON
logging, `AccessLog` writes the JSON object the stdout handler would print straight to its
stream and hands the same record to OTLP, skipping the generic ``logging`` machinery, the
redaction walk and the logging-to-OTel bridge (about 40 µs per line on the benchmark machine;
docs/benchmarks/observability-notes.md). When logs go out over OTLP, the record is encoded
straight into the batch processor's queue (`observability.otlp_batch`) instead of being built
as an SDK ``LogRecord`` first: same bytes on the wire (tested), about 30 µs less per line.
Its fields come from closed sets (HTTP method, route *template*, status, gRPC service and
method names, a duration); strings still pass through the `Redactor` once each. The standard
ways to silence it keep working (``logging.getLogger("observability.access").setLevel(...)``,
``OBS_ACCESS_LOG``), but other handlers on the root logger, and log record processors added to
the provider later, do not see these lines. Without that set-up (console format, tests,
``configure_logs=False``) the line is an ordinary ``logging`` record.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from opentelemetry._logs import LogRecord
from opentelemetry.context import get_current
from opentelemetry.instrumentation.log_utils import std_to_otel
from opentelemetry.sdk._logs import LogRecordLimits
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from observability.logging import iso_timestamp
from observability.otlp_logs import encode_log_fields

if TYPE_CHECKING:
    from opentelemetry._logs import Logger, LoggerProvider
    from opentelemetry.trace import SpanContext

    from observability.otlp_batch import EncodingBatchLogRecordProcessor
    from observability.redaction import Redactor

__all__ = ["ACCESS_LOGGER", "AccessLog", "access_log_of"]

ACCESS_LOGGER = "observability.access"
_logger = logging.getLogger(ACCESS_LOGGER)
# OTel's severity texts where they differ from Python's level names (as the contrib handler maps).
_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# Strings seen in access lines (routes, method and service names) and their redacted form;
# the sets are closed, the bound is a guard.
_CLEAN_CACHE_SIZE = 4096


class AccessLog:
    """Writes access lines; build it with `AccessLog.direct` to skip the ``logging`` path."""

    def __init__(self) -> None:
        self._handler: logging.StreamHandler[Any] | None = None
        self._service = ""
        self._otel: Logger | None = None
        self._otlp: EncodingBatchLogRecordProcessor | None = None
        self._scope = InstrumentationScope(ACCESS_LOGGER)
        self._redactor: Redactor | None = None
        self._clean: dict[str, str] = {}

    @classmethod
    def direct(
        cls,
        *,
        service: str,
        stdout: logging.StreamHandler[Any],
        redactor: Redactor,
        logger_provider: LoggerProvider | None,
        otlp_logs: EncodingBatchLogRecordProcessor | None = None,
    ) -> AccessLog:
        """Write through ``stdout``'s stream (under its lock) and ``logger_provider``.

        ``otlp_logs``, the provider's OTLP processor, takes the record already encoded.
        """
        access_log = cls()
        access_log._handler = stdout
        access_log._service = service
        access_log._redactor = redactor
        if logger_provider is not None:
            access_log._otel = logger_provider.get_logger(ACCESS_LOGGER)
        # An attribute length limit (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) is the SDK's to apply.
        limits = LogRecordLimits()
        if limits.max_log_record_attribute_length is None:
            access_log._otlp = otlp_logs
        return access_log

    def write(
        self, level: int, message: str, fields: dict[str, Any], span_context: SpanContext
    ) -> None:
        """One line at ``level``; call it inside the span's context (``span_context``'s)."""
        if not _logger.isEnabledFor(level):
            return
        handler = self._handler
        if handler is None:
            _logger.log(level, message, extra=fields)
            return
        for key, value in fields.items():
            if isinstance(value, str):
                fields[key] = self._redacted(value)
        now = time.time_ns()
        level_name = logging.getLevelName(level)
        valid = span_context.is_valid
        document = {
            "timestamp": iso_timestamp(now / 1e9),
            "level": level_name,
            "service": self._service,
            "logger": ACCESS_LOGGER,
            "message": message,
            "trace_id": format(span_context.trace_id, "032x") if valid else None,
            "span_id": format(span_context.span_id, "016x") if valid else None,
            **fields,
        }
        handler.acquire()
        try:
            handler.stream.write(orjson.dumps(document).decode() + handler.terminator)
            handler.flush()
        except Exception:  # as a logging handler does: never fail the request over a log line
            handler.handleError(_logger.makeRecord(ACCESS_LOGGER, level, "", 0, message, (), None))
        finally:
            handler.release()
        if self._otlp is not None:
            self._otlp.emit_encoded(
                self._scope,
                encode_log_fields(
                    timestamp=now,
                    observed_timestamp=now,
                    severity_number=std_to_otel(level).value,
                    severity_text=_SEVERITY_TEXT.get(level_name, level_name),
                    body=message,
                    attributes=fields,
                    trace_flags=int(span_context.trace_flags),
                    trace_id=span_context.trace_id,
                    span_id=span_context.span_id,
                ),
            )
        elif self._otel is not None:
            self._otel.emit(
                LogRecord(
                    timestamp=now,
                    observed_timestamp=now,
                    context=get_current(),
                    severity_text=_SEVERITY_TEXT.get(level_name, level_name),
                    severity_number=std_to_otel(level),
                    body=message,
                    attributes=fields,
                )
            )

    def _redacted(self, value: str) -> str:
        clean = self._clean.get(value)
        if clean is None:
            assert self._redactor is not None
            clean = self._redactor.text(value)
            if len(self._clean) < _CLEAN_CACHE_SIZE:
                self._clean[value] = clean
        return clean


def access_log_of(setting: AccessLog | bool) -> AccessLog | None:
    """The access log a middleware or interceptor writes to: ``False`` none, ``True`` (the older
    form) one through `logging`, or the given one (`Telemetry.access_log`, the fast path)."""
    if setting is True:
        return AccessLog()
    return setting or None
