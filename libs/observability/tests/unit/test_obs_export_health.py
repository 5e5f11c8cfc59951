"""While the collector is down, a signal logs once when exports fail and once when they recover."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from observability import ObservabilitySettings, setup
from observability.export_health import ExportHealth, ExportHealthCollector, quiet_sdk_export_logs
from observability.otlp import LeanOTLPSpanExporter
from observability.otlp_batch import EncodingBatchSpanProcessor

JsonLogs = Callable[[], list[dict[str, Any]]]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _health_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "observability.export_health"]


def test_an_outage_writes_one_warning_and_one_recovery_line(json_logs: JsonLogs) -> None:
    clock = _Clock()
    health = ExportHealth("traces", "collector:4317", clock=clock)

    health.exported(ok=True, items=10)
    health.rpc_failed("UNAVAILABLE")
    for _ in range(5):
        health.exported(ok=False, items=512)
        clock.now += 10
    for _ in range(3):
        health.queue_full()
    clock.now += 7
    health.exported(ok=True, items=40)
    health.exported(ok=True, items=40)

    warning, recovered = _health_lines(json_logs())
    assert warning["level"] == "WARNING"
    assert (warning["signal"], warning["endpoint"], warning["grpc_status"]) == (
        "traces",
        "collector:4317",
        "UNAVAILABLE",
    )
    assert recovered["level"] == "INFO"
    assert recovered["message"] == "telemetry export recovered"
    assert recovered["outage_seconds"] == 57.0
    assert (recovered["failed_batches"], recovered["dropped_items"]) == (5, 5 * 512 + 3)
    assert health.up
    assert health.failures == 5
    assert (health.dropped("export_failed"), health.dropped("queue_full")) == (2560, 3)


def test_a_second_outage_reports_only_its_own_losses(json_logs: JsonLogs) -> None:
    health = ExportHealth("logs", "collector:4317", clock=_Clock())
    health.exported(ok=False, items=8)
    health.exported(ok=True, items=1)

    health.exported(ok=False, items=3)
    health.exported(ok=False, items=2)
    health.exported(ok=True, items=1)

    lines = _health_lines(json_logs())
    assert [line["level"] for line in lines] == ["WARNING", "INFO", "WARNING", "INFO"]
    assert (lines[3]["failed_batches"], lines[3]["dropped_items"]) == (2, 5)


def test_the_endpoint_loses_its_user_info() -> None:
    assert ExportHealth("traces", "user:s3cret@collector:4317").endpoint == "collector:4317"


def test_the_counters_are_scraped_per_signal_and_reason() -> None:
    traces, logs = ExportHealth("traces", "c:4317"), ExportHealth("logs", "c:4317")
    traces.exported(ok=False, items=7)
    logs.queue_full()
    registry = CollectorRegistry()
    registry.register(ExportHealthCollector([traces, logs]))

    scrape = generate_latest(registry).decode()

    assert 'telemetry_exporter_up{signal="traces"} 0.0' in scrape
    assert 'telemetry_exporter_up{signal="logs"} 1.0' in scrape
    assert 'telemetry_export_failures_total{signal="traces"} 1.0' in scrape
    assert 'telemetry_items_dropped_total{reason="export_failed",signal="traces"} 7.0' in scrape
    assert 'telemetry_items_dropped_total{reason="queue_full",signal="logs"} 1.0' in scrape


def test_the_sdk_retry_lines_are_dropped_and_its_other_lines_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_sdk_export_logs()
    quiet_sdk_export_logs()  # idempotent: still one filter
    exporter_log = logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter")
    assert len(exporter_log.filters) == 2  # the SDK's own DuplicateFilter and ours

    with caplog.at_level(logging.DEBUG):
        exporter_log.warning("Transient error %s encountered while exporting traces", "X")
        exporter_log.error("Failed to export %s to %s", "traces", "c:4317")
        logging.getLogger("opentelemetry.sdk._shared_internal").warning("Queue full, dropping x.")
        exporter_log.error("Failed to read certificate file")

    assert [record.getMessage() for record in caplog.records] == ["Failed to read certificate file"]


def test_an_unreachable_collector_marks_the_exporter_down_with_its_status() -> None:
    exporter = LeanOTLPSpanExporter(endpoint="http://127.0.0.1:1", insecure=True, timeout=0.5)
    try:
        result = exporter.export(_spans(3))
    finally:
        exporter.shutdown()

    assert result is SpanExportResult.FAILURE
    assert not exporter.health.up
    assert exporter.health.failures == 1
    assert exporter.health.dropped("export_failed") == 3


class _BlockedExporter(LeanOTLPSpanExporter):
    """Holds the first batch until released, as a collector that does not answer would."""

    def __init__(self) -> None:
        super().__init__(endpoint="http://127.0.0.1:1", insecure=True)
        self.holding = threading.Event()
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.holding.set()
        self.release.wait(10)
        return SpanExportResult.SUCCESS


def test_a_full_queue_counts_each_item_it_turns_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4")
    exporter = _BlockedExporter()
    processor = EncodingBatchSpanProcessor(exporter)
    provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    try:
        for _ in range(4):  # a full batch: the worker takes it and blocks in export
            tracer.start_span("first").end()
        assert exporter.holding.wait(5)

        for _ in range(10):
            tracer.start_span("while blocked").end()

        assert processor.health.dropped("queue_full") == 6
    finally:
        exporter.release.set()
        provider.shutdown()


def test_setup_exposes_the_counters_for_the_otlp_signals() -> None:
    registry = CollectorRegistry()
    settings = ObservabilitySettings(
        service_name="orders", otlp_endpoint="http://127.0.0.1:1", admin_enabled=False
    )
    telemetry = setup(settings, registry=registry, set_global=False, configure_logs=False)
    try:
        scrape = generate_latest(registry).decode()
    finally:
        telemetry.shutdown_sync()

    assert 'telemetry_exporter_up{signal="traces"} 1.0' in scrape
    assert 'telemetry_exporter_up{signal="logs"} 1.0' in scrape


def _spans(count: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for _ in range(count):
        provider.get_tracer("t").start_span("s").end()
    return list(memory.get_finished_spans())
