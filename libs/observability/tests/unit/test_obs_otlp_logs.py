"""The fast log encoder builds exactly the request the stock OTLP encoder builds."""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from observability.otlp_logs import LeanOTLPLogExporter, encode_logs_fast


def _records() -> tuple[ReadableLogRecord, ...]:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "orders"}, schema_url="https://x/1.26.0")
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    access = provider.get_logger("observability.access", "1.0", schema_url="https://x/1.26.0")
    other = provider.get_logger("orders.service")
    tracer = TracerProvider().get_tracer("t")
    fields: dict[str, Any] = {
        "http.request.method": "GET",
        "http.route": "/users/{user_id}",
        "http.response.status_code": 200,
        "duration_ms": 0.25,
        "negative": -3,
        "flag": True,
        "one": 1,
        "one_point_zero": 1.0,
        "empty": "",
        "ünïcode": "値",
    }
    with tracer.start_as_current_span("GET /users/{user_id}"):
        for _ in range(2):  # the second time the encoded attribute pairs come from the cache
            access.emit(
                LogRecord(
                    timestamp=1_700_000_000_123_456_789,
                    severity_text="INFO",
                    severity_number=SeverityNumber.INFO,
                    body="request handled",
                    attributes=fields,
                )
            )
        other.emit(
            LogRecord(
                severity_text="ERROR",
                severity_number=SeverityNumber.ERROR,
                body={"event": "payment failed", "attempts": [1, 2]},
                attributes={"tags": ("a", "b"), "blob": b"\x00\x01", "nested": {"k": "v"}},
                event_name="payment.failed",
            )
        )
    other.emit(LogRecord(body=None, attributes={"counts": [1, 2, 3]}))  # outside any span
    other.emit(LogRecord(body=42))
    return tuple(exporter.get_finished_logs())


def test_fast_log_encoding_equals_the_stock_encoding() -> None:
    records = _records()

    fast = ExportLogsServiceRequest.FromString(encode_logs_fast(records))

    assert fast == encode_logs(records)
    assert len(fast.resource_logs[0].scope_logs) == 2
    first, second = fast.resource_logs[0].scope_logs[0].log_records
    assert first.attributes == second.attributes
    assert first.trace_id == second.trace_id != b""


def test_cached_attribute_pairs_keep_their_types() -> None:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("t")
    for value in (True, 1, 1.0, True, 1, 1.0):  # equal as dict keys, different on the wire
        logger.emit(LogRecord(body="b", attributes={"v": value}))
    records = exporter.get_finished_logs()

    fast = ExportLogsServiceRequest.FromString(encode_logs_fast(records))

    assert fast == encode_logs(records)
    kinds = [
        r.attributes[0].value.WhichOneof("value")
        for r in fast.resource_logs[0].scope_logs[0].log_records
    ]
    assert kinds == ["bool_value", "int_value", "double_value"] * 2


def test_the_log_exporter_translates_with_the_fast_encoder() -> None:
    records = _records()
    exporter = LeanOTLPLogExporter(endpoint="http://127.0.0.1:1", insecure=True)
    try:
        assert exporter._translate_data(records) == encode_logs(records)
    finally:
        exporter.shutdown()
