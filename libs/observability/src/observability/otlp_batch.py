"""Batch processors whose queues hold OTLP bytes instead of SDK objects.

The stock batch processors keep every finished span and log record (tens of Python objects
each) in a queue of up to 2,048 until the export thread encodes them. At sampling 1.0 those
objects outlive the request, get promoted to older garbage-collector generations and make the
collector run full collections the request path would otherwise never need (15-40 µs per
request on the benchmark machine; docs/benchmarks/observability-notes.md). These processors
encode each item when it ends, with the lean encoders of `observability.otlp` and
`observability.otlp_logs`, and queue the bytes: the SDK objects die with the request, and the
export thread only joins bytes. Batching, scheduling, queue limits, ``OTEL_BSP_*`` /
``OTEL_BLRP_*`` settings, flushing and shutdown are the stock processors' own; so are the
exporters' transport, retries and timeouts.

Each counts the items its full queue turns away on its exporter's `ExportHealth`
(``telemetry_items_dropped_total{reason="queue_full"}``): the queue is bounded
(``OTEL_BSP_MAX_QUEUE_SIZE`` / ``OTEL_BLRP_MAX_QUEUE_SIZE``, 2,048 items by default), so while
the collector is unreachable memory stays bounded and the overflow is counted, not held.

Both can `stop_exporting`: the final flush at shutdown is bounded
(`Telemetry.shutdown`), and an exporter still retrying towards an unreachable collector when
the time is up is stopped, so that it does not hold the process open.

`EncodingBatchLogRecordProcessor.emit_encoded` also takes log records that were never SDK
objects: the access log encodes its line directly (`observability.access_log`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from observability._protobuf import Encoded
from observability.otlp import LeanOTLPSpanExporter, encode_span
from observability.otlp_logs import LeanOTLPLogExporter, encode_log

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import ReadWriteLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from observability.export_health import ExportHealth

__all__ = ["EncodingBatchLogRecordProcessor", "EncodingBatchSpanProcessor"]


def _enqueue(batch_processor: Any, encoded: Encoded, health: ExportHealth) -> None:
    """Queue ``encoded``; when the queue is full the SDK drops the oldest item: count it."""
    if len(batch_processor._queue) >= batch_processor._max_queue_size:
        health.queue_full()
    batch_processor.emit(encoded)


class EncodingBatchSpanProcessor(BatchSpanProcessor):
    """`BatchSpanProcessor` for `LeanOTLPSpanExporter` that queues each sampled span encoded."""

    def __init__(self, exporter: LeanOTLPSpanExporter) -> None:
        super().__init__(exporter)
        self._exporter = exporter

    @property
    def health(self) -> ExportHealth:
        """The exporter's export state and counters (`observability.export_health`)."""
        return self._exporter.health

    def stop_exporting(self) -> None:
        """Stop the exporter: a retry in progress ends at once; later batches are dropped."""
        self._exporter.stop()

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if not (context and context.trace_flags.sampled):
            return
        encoded = Encoded(span.resource, span.instrumentation_scope, encode_span(span))
        _enqueue(self._batch_processor, encoded, self._exporter.health)


class EncodingBatchLogRecordProcessor(BatchLogRecordProcessor):
    """`BatchLogRecordProcessor` for `LeanOTLPLogExporter` that queues each record encoded."""

    def __init__(self, exporter: LeanOTLPLogExporter, *, resource: Resource) -> None:
        super().__init__(exporter)
        self._exporter = exporter
        self._resource = resource

    @property
    def health(self) -> ExportHealth:
        """The exporter's export state and counters (`observability.export_health`)."""
        return self._exporter.health

    def stop_exporting(self) -> None:
        """Stop the exporter: a retry in progress ends at once; later records are dropped."""
        self._exporter.stop()

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        resource = log_record.resource if log_record.resource is not None else self._resource
        encoded = Encoded(resource, log_record.instrumentation_scope, encode_log(log_record))
        _enqueue(self._batch_processor, encoded, self._exporter.health)

    def emit_encoded(self, scope: InstrumentationScope, payload: bytes) -> None:
        """Queue a ``LogRecord`` message encoded by the caller, from this provider's resource."""
        _enqueue(
            self._batch_processor, Encoded(self._resource, scope, payload), self._exporter.health
        )
