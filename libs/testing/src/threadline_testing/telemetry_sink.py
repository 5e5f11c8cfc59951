"""One OTLP receiver for the whole test session, and the leak check of all it received.

Every service process an e2e test starts exports its spans and log records here: the code that
builds the process's environment adds ``telemetry_sink.environment()`` (the receiver's
endpoint, both exporters on, every span sampled, a label naming the launch). Each export is
handed to `observability.leak_check.LeakCheck` as it arrives, and when the session ends the
plugin fails the run if any string holds a secret (`threadline_testing.known_secrets`) or
something shaped like one, naming the signal, field, service, trace id and the test that
started the process, never the value.

The receiver starts only when a test asks for the `telemetry_sink` fixture, so a run without
e2e tests never starts it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from observability.leak_check import Finding, LeakCheck
from observability.testing import OtlpSink

__all__ = ["LAUNCH_ATTRIBUTE", "ReceivedLog", "ReceivedSpan", "TelemetrySink"]

# The resource attribute telling which launch (and so which test) a process belongs to.
LAUNCH_ATTRIBUTE = "threadline.test.launch"
# Short batch delays: a test that asserts on kept spans does not wait five seconds for them,
# and little is left to flush when a process is stopped.
_BATCH_DELAY_MS = "200"


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """A span as the receiver got it, ids in hex (``parent_id`` empty for a root)."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str


@dataclass(frozen=True, slots=True)
class ReceivedLog:
    """A log record as the receiver got it: ids in hex (empty outside a span), attributes
    with their plain values."""

    service: str
    scope: str
    severity_text: str
    body: str
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


class TelemetrySink:
    """An `OtlpSink` on its own thread and event loop, checking everything it receives."""

    def __init__(self, current_test: Callable[[], str] = lambda: "") -> None:
        self.check = LeakCheck(label_attribute=LAUNCH_ATTRIBUTE)
        self._current_test = current_test
        # Launch id -> the test during which the process was started.
        self.launches: dict[str, str] = {}
        self._kept: dict[str, list[ReceivedSpan]] = {}
        self._kept_logs: dict[str, list[ReceivedLog]] = {}
        self._known_count = 0
        self._lock = threading.Lock()
        self._sink = OtlpSink(keep=False, on_export=self._receive)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="threadline-otlp-sink", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return self._sink.endpoint

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._sink.start(), self._loop).result(timeout=30)

    def stop(self) -> None:
        """Stop receiving (after the processes have stopped and flushed)."""
        asyncio.run_coroutine_threadsafe(self._sink.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def environment(self, *, keep_spans: bool = False, keep_logs: bool = False) -> dict[str, str]:
        """The variables a service process needs to export everything here, as one launch.

        With ``keep_spans`` the launch's spans are also kept for `kept_spans` (a test that
        asserts on a trace's shape), with ``keep_logs`` its log records for `kept_logs`;
        everything else is only checked.
        """
        with self._lock:
            launch = str(len(self.launches) + 1)
            self.launches[launch] = self._current_test()
            if keep_spans:
                self._kept[launch] = []
            if keep_logs:
                self._kept_logs[launch] = []
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            # Every span, whatever the caller's traceparent asks: one not recorded is one
            # not checked.
            "OTEL_TRACES_SAMPLER": "always_on",
            "OTEL_TRACES_SAMPLER_ARG": "1.0",
            "OTEL_BSP_SCHEDULE_DELAY": _BATCH_DELAY_MS,
            "OTEL_BLRP_SCHEDULE_DELAY": _BATCH_DELAY_MS,
            "OTEL_RESOURCE_ATTRIBUTES": f"{LAUNCH_ATTRIBUTE}={launch}",
        }

    def kept_spans(self, environment: Mapping[str, str]) -> list[ReceivedSpan]:
        """The spans received so far from the launch ``environment`` was made for."""
        launch = environment["OTEL_RESOURCE_ATTRIBUTES"].partition("=")[2]
        with self._lock:
            return list(self._kept[launch])

    def kept_logs(self, environment: Mapping[str, str]) -> list[ReceivedLog]:
        """The log records received so far from the launch ``environment`` was made for."""
        launch = environment["OTEL_RESOURCE_ATTRIBUTES"].partition("=")[2]
        with self._lock:
            return list(self._kept_logs[launch])

    def findings(self, known: Mapping[str, str]) -> list[Finding]:
        """Everything received, searched for the ``known`` values and for secret shapes."""
        for value, kind in known.items():
            self.check.add_known(value, kind)
        self._known_count = len(known)
        return self.check.findings()

    def report(self, findings: list[Finding], seconds: float) -> list[str]:
        """The lines the session ends with: what was scanned, then each leak."""
        check = self.check
        lines = [
            f"telemetry check: {len(findings)} leak(s) in {check.spans} spans, "
            f"{check.log_records} log records and {check.resources} resource blocks "
            f"exported by {len(self.launches)} service launch(es), searched for "
            f"{self._known_count} registered secret values and the shapes; {seconds:.2f} s"
        ]
        labels = {launch: f"started by {test}" for launch, test in self.launches.items()}
        lines += [f"- {finding.describe(labels)}" for finding in findings]
        return lines

    def _receive(self, request: Any) -> None:
        self.check.add(request)
        if self._kept and isinstance(request, ExportTraceServiceRequest):
            self._keep_spans(request)
        if self._kept_logs and isinstance(request, ExportLogsServiceRequest):
            self._keep_logs(request)

    def _keep_spans(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            attributes = {
                attribute.key: attribute.value.string_value
                for attribute in resource_spans.resource.attributes
            }
            with self._lock:
                kept = self._kept.get(attributes.get(LAUNCH_ATTRIBUTE, ""))
                if kept is None:
                    continue
                kept.extend(
                    ReceivedSpan(
                        service=attributes.get("service.name", ""),
                        name=span.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                    )
                    for scope_spans in resource_spans.scope_spans
                    for span in scope_spans.spans
                )

    def _keep_logs(self, request: ExportLogsServiceRequest) -> None:
        for resource_logs in request.resource_logs:
            resource = _plain_attributes(resource_logs.resource.attributes)
            with self._lock:
                kept = self._kept_logs.get(str(resource.get(LAUNCH_ATTRIBUTE, "")))
                if kept is None:
                    continue
                kept.extend(
                    ReceivedLog(
                        service=str(resource.get("service.name", "")),
                        scope=scope_logs.scope.name,
                        severity_text=record.severity_text,
                        body=str(_plain(record.body)),
                        trace_id=record.trace_id.hex(),
                        span_id=record.span_id.hex(),
                        attributes=_plain_attributes(record.attributes),
                    )
                    for scope_logs in resource_logs.scope_logs
                    for record in scope_logs.log_records
                )


def _plain(value: Any) -> Any:
    """An OTLP ``AnyValue``'s scalar (string, int, double, bool); ``None`` for anything else."""
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in _SCALARS else None


_SCALARS = frozenset({"string_value", "int_value", "double_value", "bool_value"})


def _plain_attributes(attributes: Any) -> dict[str, Any]:
    return {attribute.key: _plain(attribute.value) for attribute in attributes}
