"""The encoding batch processors export exactly what the stock processors and encoders would."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CollectorRegistry

from observability import ObservabilitySettings, setup
from observability._protobuf import Encoded
from observability.access_log import ACCESS_LOGGER, AccessLog
from observability.otlp import LeanOTLPSpanExporter
from observability.otlp_batch import EncodingBatchLogRecordProcessor, EncodingBatchSpanProcessor
from observability.otlp_logs import LeanOTLPLogExporter
from observability.redaction import Redactor

RESOURCE = Resource.create({"service.name": "orders"})


class _SpanRequests(LeanOTLPSpanExporter):
    """The lean exporter, keeping the requests it would send instead of sending them."""

    def __init__(self) -> None:
        super().__init__(endpoint="http://127.0.0.1:1", insecure=True)
        self.requests: list[ExportTraceServiceRequest] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.requests.append(self._translate_data(spans))
        return SpanExportResult.SUCCESS


class _LogRequests(LeanOTLPLogExporter):
    def __init__(self) -> None:
        super().__init__(endpoint="http://127.0.0.1:1", insecure=True)
        self.requests: list[ExportLogsServiceRequest] = []

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        self.requests.append(self._translate_data(batch))
        return LogRecordExportResult.SUCCESS


def _one_request(requests: Sequence[Any], kind: type[Any]) -> Any:
    merged = kind()
    for request in requests:
        merged.MergeFrom(request)
    return merged


def test_spans_are_exported_as_the_stock_encoder_encodes_them() -> None:
    exporter = _SpanRequests()
    processor = EncodingBatchSpanProcessor(exporter)
    stock = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(processor)
    provider.add_span_processor(SimpleSpanProcessor(stock))
    http = provider.get_tracer("observability.asgi", "1.0", schema_url="https://x/1.26.0")
    relay = provider.get_tracer("order_service.relay")
    with http.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER) as server:
        server.set_attributes({"http.request.method": "GET", "server.port": 50051})
        server.add_event("retry", {"attempt": 2})
        with relay.start_as_current_span("publish", kind=SpanKind.PRODUCER) as child:
            child.set_status(Status(StatusCode.ERROR, "broker gone"))
            child.set_attribute("tags", ("a", "b"))

    processor.force_flush()

    ended: tuple[ReadableSpan, ...] = stock.get_finished_spans()
    sent = _one_request(exporter.requests, ExportTraceServiceRequest)
    assert sent == encode_spans(ended)
    assert len(sent.resource_spans[0].scope_spans) == 2
    provider.shutdown()


def test_the_span_queue_holds_bytes_and_only_sampled_spans() -> None:
    exporter = _SpanRequests()
    processor = EncodingBatchSpanProcessor(exporter)
    provider = TracerProvider(resource=RESOURCE, sampler=ParentBased(TraceIdRatioBased(0.5)))
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    sampled = 0
    for _ in range(200):
        with tracer.start_as_current_span("work") as span:
            sampled += span.get_span_context().trace_flags.sampled

    queued = list(processor._batch_processor._queue)
    assert 0 < len(queued) == sampled < 200
    assert {type(item) for item in queued} == {Encoded}
    assert all(isinstance(item.payload, bytes) for item in queued)
    provider.shutdown()


def _emit_records(provider: LoggerProvider) -> None:
    logger = provider.get_logger("orders.service", "2.0")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("CreateOrder"):
        logger.emit(
            LogRecord(
                timestamp=1_700_000_000_123_456_789,
                severity_text="WARN",
                severity_number=SeverityNumber.WARN,
                body="stock low",
                attributes={"sku": "BOOK-1", "left": 2, "ratio": 0.5, "tags": ["a", "b"]},
            )
        )
    logger.emit(LogRecord(body={"event": "started"}, event_name="service.started"))


def test_log_records_are_exported_as_the_stock_encoder_encodes_them() -> None:
    exporter = _LogRequests()
    processor = EncodingBatchLogRecordProcessor(exporter, resource=RESOURCE)
    stock = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(processor)
    provider.add_log_record_processor(SimpleLogRecordProcessor(stock))

    _emit_records(provider)
    processor.force_flush()

    emitted: tuple[ReadableLogRecord, ...] = stock.get_finished_logs()
    assert _one_request(exporter.requests, ExportLogsServiceRequest) == encode_logs(emitted)
    provider.shutdown()


@pytest.fixture(autouse=True)
def _access_lines_enabled() -> Iterator[None]:
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(logging.NOTSET)


def _access_record(access_log: AccessLog, level: int) -> None:
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("POST /orders") as span:
        access_log.write(
            level,
            "request handled",
            {
                "http.request.method": "POST",
                "http.route": "/orders",
                "http.response.status_code": 503,
                "duration_ms": 1.5,
            },
            span.get_span_context(),
        )


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING, logging.ERROR])
def test_an_access_line_encoded_directly_equals_the_sdk_record(level: int) -> None:
    exporter = _LogRequests()
    processor = EncodingBatchLogRecordProcessor(exporter, resource=RESOURCE)
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(processor)
    stdout = logging.StreamHandler(io.StringIO())

    def access_log(*, direct: bool) -> AccessLog:
        return AccessLog.direct(
            service="orders",
            stdout=stdout,
            redactor=Redactor(),
            logger_provider=provider,
            otlp_logs=processor if direct else None,
        )

    _access_record(access_log(direct=True), level)
    _access_record(access_log(direct=False), level)
    processor.force_flush()

    sent = _one_request(exporter.requests, ExportLogsServiceRequest)
    # Two scope groups with equal scopes: the direct path names its scope itself.
    direct_scope, sdk_scope = sent.resource_logs[0].scope_logs
    assert direct_scope.scope == sdk_scope.scope
    (direct,) = direct_scope.log_records
    (through_sdk,) = sdk_scope.log_records
    assert direct.trace_id != through_sdk.trace_id  # two requests, two traces
    for record in (direct, through_sdk):
        record.ClearField("time_unix_nano")
        record.ClearField("observed_time_unix_nano")
        record.ClearField("trace_id")
        record.ClearField("span_id")
    assert direct == through_sdk
    assert direct.flags & 1  # sampled (the W3C random-trace-id flag may be set too)
    provider.shutdown()


def test_an_attribute_length_limit_keeps_the_access_line_on_the_sdk_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")
    exporter = _LogRequests()
    processor = EncodingBatchLogRecordProcessor(exporter, resource=RESOURCE)
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(processor)
    access_log = AccessLog.direct(
        service="orders",
        stdout=logging.StreamHandler(logging.io.StringIO()),  # type: ignore[attr-defined]
        redactor=Redactor(),
        logger_provider=provider,
        otlp_logs=processor,
    )

    _access_record(access_log, logging.INFO)
    processor.force_flush()

    (record,) = exporter.requests[0].resource_logs[0].scope_logs[0].log_records
    route = next(kv for kv in record.attributes if kv.key == "http.route")
    assert route.value.string_value == "/or"
    provider.shutdown()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _collector_down() -> ObservabilitySettings:
    """Every span sampled, exported to a port nobody listens on, half a second to flush."""
    return ObservabilitySettings(
        service_name="svc",
        otlp_endpoint=f"http://127.0.0.1:{_closed_port()}",
        traces_sampler_ratio=1.0,
        telemetry_flush_timeout_seconds=0.5,
    )


def test_shutdown_with_the_collector_down_ends_within_the_flush_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The stock exporters would retry each batch for up to OTEL_EXPORTER_OTLP_TIMEOUT (10 s),
    # spans and then logs: about 15 s before the process could exit.
    settings = _collector_down()
    telemetry = setup(
        settings, registry=CollectorRegistry(), set_global=False, configure_logs=False
    )
    logger = telemetry._logger_provider.get_logger("t")  # type: ignore[union-attr]
    for _ in range(10):
        with telemetry.tracer("t").start_as_current_span("work"):
            logger.emit(LogRecord(body="working"))

    started = time.monotonic()
    telemetry.shutdown_sync()

    assert time.monotonic() - started < 0.5 + 2.5
    # The exporters were stopped, not left retrying in the background.
    flushing = [t for t in threading.enumerate() if t.name == "telemetry-flush"]
    assert not any(thread.is_alive() for thread in flushing)
    # Stopped on purpose: one warning from us, none per batch or call from the SDK exporters.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [message for message in warnings if "already shutdown" in message]
    assert "telemetry was not flushed in time; the rest is dropped" in warnings


def test_what_a_stopped_shutdown_reports_is_a_json_line_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = _collector_down()
    telemetry = setup(settings, registry=CollectorRegistry(), set_global=False)
    with telemetry.tracer("t").start_as_current_span("work"):
        pass

    telemetry.shutdown_sync()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    dropped = [line for line in lines if line["message"].startswith("telemetry was not flushed")]
    assert dropped
    assert dropped[0]["service"] == "svc"
    assert dropped[0]["level"] == "WARNING"
    assert "already shutdown" not in capsys.readouterr().err
