"""Exceptions recorded on spans the way they are logged: redacted.

A span's exception event (``exception.message``, ``exception.stacktrace``) and its error status
reach the trace store as a log line reaches the log store, so they pass through the same
`Redactor`: the row of a failed INSERT, an email address or a token in an exception's text
reaches neither. The HTTP middleware, the gRPC server interceptor, the Kafka consumer span and
the SQLAlchemy statement spans record errors through here.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from observability.redaction import Redactor

__all__ = ["record_exception"]


def record_exception(span: Span, error: BaseException, redactor: Redactor) -> str:
    """Add ``error`` to ``span`` as a redacted exception event; return its redacted message.

    The message is what a caller puts in the span's error status, if it sets one.
    """
    message = redactor.text(str(error))
    stacktrace = redactor.text("".join(traceback.format_exception(error)))
    # The SDK fills these two from the raw exception; the attributes given here replace them.
    span.record_exception(
        error, attributes={"exception.message": message, "exception.stacktrace": stacktrace}
    )
    return message
