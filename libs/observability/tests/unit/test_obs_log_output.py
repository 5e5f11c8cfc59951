"""What `configure_logging`'s handlers write for lines about failures, on stdout and over OTLP.

A line about an exception that escaped a traced request carries that request's trace even
though it is written after the span ended, and a line holding text no encoder can carry is
written escaped, never lost and never raised into the code that logged it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import orjson
import pytest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.trace import SpanContext, TraceFlags

from observability import ObservabilitySettings, escaped
from observability.logging import configure_logging
from observability.otlp_logs import encode_log

_log = logging.getLogger("test.output")
REQUEST = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False, TraceFlags(1))


class EncodingProcessor(LogRecordProcessor):
    """Encodes each record as it is emitted, as the OTLP batch processor does."""

    def __init__(self) -> None:
        self.records: list[ReadWriteLogRecord] = []
        self.encoded: list[bytes] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.encoded.append(encode_log(log_record))
        self.records.append(log_record)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.fixture
def exported() -> Iterator[Callable[[], EncodingProcessor]]:
    """Installs `configure_logging`'s handlers, stdout and OTLP, when the test calls it.

    Called inside the test: capsys swaps sys.stdout between a test's setup and its call.
    """
    provider = LoggerProvider()
    handlers: list[logging.Handler] = []

    def install() -> EncodingProcessor:
        processor = EncodingProcessor()
        provider.add_log_record_processor(processor)
        settings = ObservabilitySettings(service_name="test", logs_exporter="none")
        handlers.extend(configure_logging(settings, logger_provider=provider))
        return processor

    yield install
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
    provider.shutdown()


def _stdout_lines(captured: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in captured.readouterr().out.splitlines()]


def test_a_line_about_an_escaped_exception_is_written_under_its_request(
    exported: Callable[[], EncodingProcessor], capsys: pytest.CaptureFixture[str]
) -> None:
    otlp = exported()
    error = RuntimeError("kaput")
    escaped.mark(error, REQUEST)
    # Outside any span, as a server logs what its application raised.
    _log.error("Exception in ASGI application", exc_info=error)

    (line,) = _stdout_lines(capsys)
    assert (line["trace_id"], line["span_id"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert "__observability" not in repr(line)
    (record,) = otlp.records
    assert (record.log_record.trace_id, record.log_record.span_id) == (
        REQUEST.trace_id,
        REQUEST.span_id,
    )
    assert "__observability" not in repr(dict(record.log_record.attributes or {}))


def test_a_line_about_an_unmarked_exception_has_no_trace(
    exported: Callable[[], EncodingProcessor], capsys: pytest.CaptureFixture[str]
) -> None:
    otlp = exported()
    _log.error("failed", exc_info=RuntimeError("kaput"))

    (line,) = _stdout_lines(capsys)
    assert (line["trace_id"], line["span_id"]) == (None, None)
    (record,) = otlp.records
    assert not record.log_record.trace_id


def test_text_no_encoder_can_hold_is_written_escaped_and_never_raised(
    exported: Callable[[], EncodingProcessor], capsys: pytest.CaptureFixture[str]
) -> None:
    otlp = exported()
    # An unpaired surrogate: what undecodable input becomes once decoded leniently. orjson and
    # protobuf both refuse it; before, the OTLP handler raised it into the logging call.
    _log.warning("refused \udcff", extra={"field": "x\ud800y"})

    (line,) = _stdout_lines(capsys)
    assert (line["message"], line["field"]) == ("refused \\udcff", "x\\ud800y")
    (encoded,) = otlp.encoded
    assert b"refused \\udcff" in encoded
