"""`setup` builds the `Telemetry` of a process: providers, metrics, health and shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from opentelemetry import trace
from opentelemetry.trace import NoOpTracerProvider
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from observability.access_log import AccessLog
from observability.admin import AdminServer
from observability.admin_routes import ControlRoutes
from observability.export_health import ExportHealthCollector, quiet_sdk_export_logs
from observability.faults import FaultRegistry
from observability.garbage_collector import GcPauses, freeze_startup_heap
from observability.health import HealthRegistry
from observability.lifecycle import ShutdownCoordinator
from observability.logging import configure_logging
from observability.metrics import Metrics
from observability.redaction import Redactor
from observability.runtime_controls import RuntimeControls
from observability.sampling import AdjustableRatioSampler
from observability.settings import ObservabilitySettings
from observability.tracing import build_resource, build_tracer_provider

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from observability.otlp_batch import (
        EncodingBatchLogRecordProcessor,
        EncodingBatchSpanProcessor,
    )

__all__ = ["Telemetry", "setup"]

_log = logging.getLogger(__name__)
_global_installed = False
# After `stop_exporting`, how long the SDK's shutdown may still take (it only joins threads).
_STOPPED_EXPORTER_SECONDS = 1.0


class ExportProcessor(Protocol):
    """A batch processor whose exporter `Telemetry.shutdown` can stop (observability.otlp_batch)."""

    def stop_exporting(self) -> None: ...


class Telemetry:
    """Handle on everything `setup` built; `shutdown` flushes and releases all of it."""

    def __init__(
        self,
        *,
        settings: ObservabilitySettings,
        tracer_provider: TracerProvider | None,
        logger_provider: LoggerProvider | None,
        metrics: Metrics,
        health: HealthRegistry,
        log_handlers: list[logging.Handler],
        access_log: AccessLog | None = None,
        redactor: Redactor | None = None,
        export_processors: Sequence[ExportProcessor] = (),
        gc_pauses: GcPauses | None = None,
        ratio_sampler: AdjustableRatioSampler | None = None,
    ) -> None:
        self.settings = settings
        self._tracer_provider = tracer_provider
        self._logger_provider = logger_provider
        self.metrics = metrics
        self.health = health
        self.redactor = redactor or Redactor()
        #: Where the HTTP middleware and gRPC interceptor write their access lines.
        self.access_log = access_log or AccessLog()
        self.lifecycle = ShutdownCoordinator(
            health,
            grace_seconds=settings.shutdown_grace_seconds,
            drain_delay_seconds=settings.shutdown_drain_delay_seconds,
            flush_seconds=settings.telemetry_flush_timeout_seconds,
        )
        #: Fault flags the HTTP middleware and the gRPC interceptor apply (observability.faults).
        self.faults = FaultRegistry(
            enabled=settings.fault_injection_allowed,
            disabled_reason=(
                f"fault injection is off in {settings.environment} "
                f"({settings.env_name('faults_enabled')}=true turns it on)"
            ),
            metrics=metrics,
        )
        #: Log level and sampling ratio, changed at run time (observability.runtime_controls).
        self.runtime = RuntimeControls(
            settings=settings,
            ratio_sampler=ratio_sampler or AdjustableRatioSampler(settings.traces_sampler_ratio),
        )
        self.lifecycle.on_reload("settings", self.runtime.reload)
        self.admin = AdminServer(
            health=health,
            registry=metrics.registry if settings.metrics_enabled else None,
            host=settings.admin_host,
            port=settings.admin_port,
            token=settings.admin_token.get_secret_value() if settings.admin_token else None,
            routes=ControlRoutes(faults=self.faults, runtime=self.runtime),
        )
        self._log_handlers = log_handlers
        self._export_processors = tuple(export_processors)
        self._gc_pauses = gc_pauses
        if gc_pauses is not None:
            gc_pauses.install()
        self._closed = False
        self.lifecycle.on_flush("telemetry", lambda _left: self.shutdown())

    @property
    def tracer_provider(self) -> trace.TracerProvider:
        """The SDK provider, or a no-op one when ``OTEL_SDK_DISABLED`` is true."""
        return self._tracer_provider or NoOpTracerProvider()

    def tracer(self, name: str, version: str | None = None) -> trace.Tracer:
        """A tracer for hand-written spans (use cases, the outbox relay)."""
        return self.tracer_provider.get_tracer(name, version)

    def mark_started(self) -> None:
        """Start-up is done: /startupz may pass, and the start-up heap is frozen (`OBS_GC_FREEZE`).

        Freezing (`observability.garbage_collector`) keeps later full collections from walking
        every module, class and pool the process built while starting.
        """
        if self.settings.gc_freeze:
            frozen = freeze_startup_heap()
            _log.debug("start-up heap frozen", extra={"gc.frozen_objects": frozen})
        self.health.mark_started()

    async def start(self) -> None:
        """Start the admin server (when enabled) and take over SIGTERM/SIGINT and SIGHUP."""
        if self.settings.admin_enabled:
            await self.admin.start()
        self.lifecycle.install_signal_handlers()

    async def run_until_shutdown(self) -> None:
        """`start`, wait for SIGTERM/SIGINT, then drain, flush and return (exit code 0)."""
        await self.start()
        await self.lifecycle.wait_for_shutdown_request()
        await self.lifecycle.shutdown()
        await self.admin.stop()
        self.lifecycle.remove_signal_handlers()

    async def shutdown(self) -> None:
        """Flush spans and logs without blocking the event loop, then release everything."""
        await asyncio.to_thread(self.shutdown_sync)

    def shutdown_sync(self) -> None:
        """Blocking `shutdown`, for code that has no running loop (tests, atexit).

        Bounded by ``telemetry_flush_timeout_seconds``: an exporter still failing when the time
        is up (the collector is down) is stopped and what it held is dropped, where the SDK's
        own exporters would retry for up to ``OTEL_EXPORTER_OTLP_TIMEOUT`` each and hold the
        process open.
        """
        if self._closed:
            return
        self._closed = True
        if self._gc_pauses is not None:
            self._gc_pauses.uninstall()
        root = logging.getLogger()
        # The OTLP handler goes first, its provider is about to shut down; the stdout handler
        # stays to the end, so what the shutdown itself reports is still a JSON line.
        stdout, otlp = self._log_handlers[:1], self._log_handlers[1:]
        for handler in otlp:
            root.removeHandler(handler)
        try:
            self._flush_and_release(self.settings.telemetry_flush_timeout_seconds)
        finally:
            for handler in stdout:
                root.removeHandler(handler)
                handler.flush()

    def _flush_and_release(self, timeout: float) -> None:
        providers = [p for p in (self._tracer_provider, self._logger_provider) if p is not None]
        flushed = threading.Event()

        def flush_and_release() -> None:
            for provider in providers:
                provider.force_flush(int(timeout * 1000))
                provider.shutdown()
            flushed.set()

        # A daemon thread: should even a stopped exporter hang, the process can still exit.
        threading.Thread(target=flush_and_release, name="telemetry-flush", daemon=True).start()
        if flushed.wait(timeout):
            return
        for processor in self._export_processors:
            processor.stop_exporting()
        _log.warning(
            "telemetry was not flushed in time; the rest is dropped",
            extra={"flush_timeout_seconds": timeout},
        )
        flushed.wait(_STOPPED_EXPORTER_SECONDS)


def setup(
    settings: ObservabilitySettings | None = None,
    *,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    registry: CollectorRegistry | None = None,
    set_global: bool = True,
    configure_logs: bool = True,
) -> Telemetry:
    """Set the process up from ``settings`` (read from the environment when omitted).

    Call it once per process, before building the app or server. In tests pass an
    ``InMemorySpanExporter`` as ``span_exporter`` (spans are then exported synchronously), a
    private ``CollectorRegistry`` and ``set_global=False`` so several telemetries can coexist.
    """
    global _global_installed  # noqa: PLW0603 - the OTel global may be set once per process
    settings = settings or ObservabilitySettings()
    tracer_provider: TracerProvider | None = None
    logger_provider: LoggerProvider | None = None
    otlp_spans: EncodingBatchSpanProcessor | None = None
    otlp_logs: EncodingBatchLogRecordProcessor | None = None
    ratio_sampler = AdjustableRatioSampler(settings.traces_sampler_ratio)
    if not settings.sdk_disabled:
        resource = build_resource(settings)
        tracer_provider, otlp_spans = build_tracer_provider(
            settings, resource, span_exporter=span_exporter, ratio=ratio_sampler
        )
        logger_provider, otlp_logs = _build_logger_provider(settings, resource, log_exporter)
    if set_global and tracer_provider is not None:
        if _global_installed:
            raise RuntimeError("observability.setup(set_global=True) may run once per process")
        trace.set_tracer_provider(tracer_provider)
        if logger_provider is not None:
            from opentelemetry._logs import set_logger_provider  # noqa: PLC0415

            set_logger_provider(logger_provider)
        _global_installed = True
    gc_pauses = None
    if registry is None:
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        gc_pauses = GcPauses(registry)
    export_healths = [p.health for p in (otlp_spans, otlp_logs) if p is not None]
    if export_healths:
        # While the collector is down: a line when a signal's exports fail and one when they
        # recover, instead of the SDK's line per retry; the losses are counted on /metrics.
        quiet_sdk_export_logs()
        registry.register(ExportHealthCollector(export_healths))
    handlers: list[logging.Handler] = []
    access_log = AccessLog()
    # One redactor for the log filter, the access log and `Telemetry.redactor` (its caches too).
    redactor = Redactor()
    if configure_logs:
        handlers = configure_logging(settings, logger_provider=logger_provider, redactor=redactor)
        if settings.log_format == "json" and isinstance(handlers[0], logging.StreamHandler):
            access_log = AccessLog.direct(
                service=settings.service_name,
                stdout=handlers[0],
                redactor=redactor,
                logger_provider=logger_provider,
                otlp_logs=otlp_logs,
            )
    return Telemetry(
        settings=settings,
        tracer_provider=tracer_provider,
        logger_provider=logger_provider,
        metrics=Metrics(registry),
        health=HealthRegistry(
            default_timeout=settings.health_check_timeout_seconds,
            cache_seconds=settings.health_cache_seconds,
        ),
        log_handlers=handlers,
        access_log=access_log,
        redactor=redactor,
        export_processors=[p for p in (otlp_spans, otlp_logs) if p is not None],
        gc_pauses=gc_pauses,
        ratio_sampler=ratio_sampler,
    )


def _build_logger_provider(
    settings: ObservabilitySettings, resource: Resource, exporter: LogRecordExporter | None
) -> tuple[LoggerProvider | None, EncodingBatchLogRecordProcessor | None]:
    """The provider, and its OTLP processor when logs go out over OTLP (the access log's path)."""
    from opentelemetry.sdk._logs import LoggerProvider  # noqa: PLC0415
    from opentelemetry.sdk._logs.export import (  # noqa: PLC0415
        BatchLogRecordProcessor,
        SimpleLogRecordProcessor,
    )

    if exporter is not None:
        provider = LoggerProvider(resource=resource)
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        return provider, None
    if settings.logs_exporter == "none":
        return None, None
    provider = LoggerProvider(resource=resource)
    if settings.logs_exporter == "otlp":
        # The stock OTLP/gRPC exporter with a faster encoder (observability.otlp_logs), fed
        # records encoded as they are emitted (observability.otlp_batch).
        from observability.otlp_batch import EncodingBatchLogRecordProcessor  # noqa: PLC0415
        from observability.otlp_logs import LeanOTLPLogExporter  # noqa: PLC0415

        processor = EncodingBatchLogRecordProcessor(
            LeanOTLPLogExporter(endpoint=settings.otlp_endpoint), resource=resource
        )
        provider.add_log_record_processor(processor)
        return provider, processor
    from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter  # noqa: PLC0415

    provider.add_log_record_processor(BatchLogRecordProcessor(ConsoleLogRecordExporter()))
    return provider, None
