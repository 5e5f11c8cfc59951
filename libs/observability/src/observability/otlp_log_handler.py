"""The OTLP log handler: the contrib ``LoggingHandler``, joined to escaped requests, never raising.

Two differences from the contrib handler, both about the lines a server writes when a request
fails:

* A record about an exception that escaped a traced request (`observability.escaped`) is
  emitted under that request's span context, so the exported record carries its ``trace_id``
  and ``span_id`` like the stdout line does.
* A failure to emit never reaches the code that logged. The contrib handler lets it through
  (the standard library's handlers report theirs through ``handleError``), and the batch
  processor encodes each record as it is emitted (`observability.otlp_batch`): a string no
  protobuf can hold (an unpaired surrogate) raised inside uvicorn's error path, so the failed
  request got neither a response nor a log line. Such a record is emitted again with its
  strings made encodable; anything else is reported through ``handleError``.
"""

from __future__ import annotations

import logging

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.trace import NonRecordingSpan, get_current_span, set_span_in_context

from observability.encodable import encodable
from observability.escaped import span_context_of_record

__all__ = ["OtlpLogHandler"]


class OtlpLogHandler(LoggingHandler):
    """Exports records over OTLP; see the module docstring for what it adds."""

    def emit(self, record: logging.LogRecord) -> None:
        token = None
        if not get_current_span().get_span_context().is_valid:
            escaped_from = span_context_of_record(record)
            if escaped_from is not None:
                token = otel_context.attach(set_span_in_context(NonRecordingSpan(escaped_from)))
        try:
            self._emit(record)
        finally:
            if token is not None:
                otel_context.detach(token)

    def _emit(self, record: logging.LogRecord) -> None:
        # Errors are reported the way logging reports every other handler's.
        try:
            super().emit(record)
        except UnicodeEncodeError:
            try:
                super().emit(logging.makeLogRecord(encodable(vars(record))))
            except Exception:
                self.handleError(record)
        except Exception:
            self.handleError(record)
