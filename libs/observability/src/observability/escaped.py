"""The request an exception escaped from, for the log lines written after its span ended.

A server logs what its application raised once the application has returned, outside the
request's span: uvicorn's ``Exception in ASGI application``, grpc.aio's ``Unexpected [...]
raised by servicer method``. Read from the current context, such a line has no ``trace_id``.
So the HTTP middleware and the gRPC server interceptor `mark` each exception leaving a request
with that request's span context, and the log handlers that `configure_logging` installs write
a record about a marked exception under it (`span_context_of_record`): the server's line joins
the trace like every other line of the request.

The mark is read where a record's exception is turned into fields (`RedactionFilter`, which
also clears ``exc_info`` so that no handler formats the raw traceback again) and kept beside
the record, not on it, so it never shows up as a field of the line.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import TYPE_CHECKING

from opentelemetry.trace import get_current_span

if TYPE_CHECKING:
    import logging

    from opentelemetry.trace import SpanContext

__all__ = ["mark", "note_record", "span_context_of", "span_context_of_record"]

# An attribute of the exception object: exceptions cannot be weakly referenced, and the mark
# must live exactly as long as the exception.
_ATTRIBUTE = "__observability_span_context__"

# Records about a marked exception, noted before their `exc_info` is cleared.
_records: weakref.WeakKeyDictionary[logging.LogRecord, SpanContext] = weakref.WeakKeyDictionary()


def mark(error: BaseException, span_context: SpanContext) -> None:
    """Remember that ``error`` escaped the request of ``span_context``.

    The innermost request wins: an exception crossing two traced layers belongs to the first.
    """
    if span_context.is_valid and getattr(error, _ATTRIBUTE, None) is None:
        # An exception type with __slots__ and no __dict__ cannot carry the mark.
        with contextlib.suppress(AttributeError):
            setattr(error, _ATTRIBUTE, span_context)


def span_context_of(error: BaseException) -> SpanContext | None:
    """The span context ``error`` escaped from, if a traced request marked it."""
    context: SpanContext | None = getattr(error, _ATTRIBUTE, None)
    return context


def note_record(record: logging.LogRecord, error: BaseException) -> None:
    """Keep the mark of the exception ``record`` reports, for when its ``exc_info`` is gone."""
    context = span_context_of(error)
    if context is not None:
        _records[record] = context


def span_context_of_record(record: logging.LogRecord) -> SpanContext | None:
    """The span a record belongs to: the current one, else the one its exception escaped."""
    current = get_current_span().get_span_context()
    if current.is_valid:
        return current
    noted = _records.get(record)
    if noted is not None:
        return noted
    if record.exc_info and record.exc_info[1] is not None:
        return span_context_of(record.exc_info[1])
    return None
