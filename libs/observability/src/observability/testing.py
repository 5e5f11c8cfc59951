"""Test helpers: an in-process OTLP/gRPC receiver and an isolated `Telemetry`.

``OtlpSink`` accepts what the real exporters send (traces and logs over OTLP/gRPC), so a test
can run a service exactly as in production, point ``OTEL_EXPORTER_OTLP_ENDPOINT`` at the sink
and assert on what arrived. ``OtlpSink(keep=False, on_export=check.add)`` hands each request to
a callback instead of keeping it, for a receiver that lives as long as a whole test session
(``observability.leak_check`` looks for secrets in them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import CollectorRegistry

from observability.settings import ObservabilitySettings
from observability.telemetry import Telemetry, setup

if TYPE_CHECKING:
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

__all__ = ["OtlpSink", "isolated_telemetry", "unsampled_span"]


def isolated_telemetry(
    settings: ObservabilitySettings | None = None, **overrides: Any
) -> tuple[Telemetry, InMemorySpanExporter]:
    """A `Telemetry` with an in-memory span exporter and a private registry; no globals touched.

    Logging is not configured (attach your own handler); ``overrides`` become settings fields.
    """
    values: dict[str, Any] = {
        "service_name": "test",
        "traces_sampler_ratio": 1.0,
        "admin_host": "127.0.0.1",
        "admin_port": 0,
        "health_cache_seconds": 0.0,
        "logs_exporter": "none",
        "gc_freeze": False,  # process-wide, like the globals left alone here
    }
    values.update(overrides)
    exporter = InMemorySpanExporter()
    telemetry = setup(
        settings or ObservabilitySettings(**values),
        span_exporter=exporter,
        registry=CollectorRegistry(),
        set_global=False,
        configure_logs=False,
    )
    return telemetry, exporter


def unsampled_span(trace_id: int = 0x1234, span_id: int = 0x5678) -> NonRecordingSpan:
    """A remote parent whose trace was decided not to be sampled (flags ``00``), to use as
    the current span: what a request of an unsampled trace runs under."""
    context = SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.DEFAULT)
    )
    return NonRecordingSpan(context)


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self._sink = sink

    async def Export(  # noqa: N802 - the OTLP service's method name
        self, request: Any, context: Any
    ) -> Any:
        self._sink.received(request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self._sink = sink

    async def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._sink.received(request)
        return logs_service_pb2.ExportLogsServiceResponse()


class OtlpSink:
    """An OTLP/gRPC receiver on ``127.0.0.1:<ephemeral>`` keeping every export it gets.

    ``on_export`` is called with each request (trace or logs) as it arrives, on the sink's
    event loop; with ``keep=False`` the requests are not kept (``spans`` and ``log_records``
    stay empty).
    """

    def __init__(
        self, *, keep: bool = True, on_export: Callable[[Any], None] | None = None
    ) -> None:
        self.trace_requests: list[Any] = []
        self.log_requests: list[Any] = []
        self._keep = keep
        self._on_export = on_export
        self._server: grpc.aio.Server | None = None
        self.port = 0

    def received(self, request: Any) -> None:
        if self._on_export is not None:
            self._on_export(request)
        if not self._keep:
            return
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            self.trace_requests.append(request)
        else:
            self.log_requests.append(request)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        server = grpc.aio.server()
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(self), server)  # type: ignore[no-untyped-call]
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(self), server)  # type: ignore[no-untyped-call]
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)
            self._server = None

    @property
    def spans(self) -> list[Span]:
        return [
            span
            for request in self.trace_requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    @property
    def log_records(self) -> list[LogRecord]:
        return [
            record
            for request in self.log_requests
            for resource_logs in request.resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]
