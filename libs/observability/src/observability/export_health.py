"""`ExportHealth`: whether one signal's OTLP exports reach the collector, said once, counted always.

While the collector is unreachable the SDK's OTLP exporter logs a WARNING for every retry and an
ERROR for every batch it gives up on, and the batch processor a WARNING whenever its queue is
full: a line every few seconds per signal and process, for as long as the outage lasts.
`ExportHealth` replaces them with transitions — one WARNING when a signal's exports start
failing (signal, endpoint, gRPC status) and one INFO when they succeed again (how long, how many
batches failed, how many items were dropped) — and with counters on the admin ``/metrics``:

- ``telemetry_exporter_up{signal}``: 1 while the last export succeeded, 0 after a failed one;
- ``telemetry_export_failures_total{signal}``: batches the exporter gave up on;
- ``telemetry_items_dropped_total{signal,reason}``: spans or log records lost, ``reason`` being
  ``export_failed`` (in a batch the exporter gave up on) or ``queue_full`` (the bounded batch
  queue was full when the item ended).

`quiet_sdk_export_logs` installs the filters that drop the SDK's per-retry lines; the SDK's
other lines (bad credentials, an exporter used after shutdown) still come through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "DROP_REASONS",
    "ExportHealth",
    "ExportHealthCollector",
    "quiet_sdk_export_logs",
]

DropReason = Literal["export_failed", "queue_full"]
DROP_REASONS: Final[tuple[DropReason, ...]] = ("export_failed", "queue_full")

_log = logging.getLogger(__name__)

#: The SDK loggers and the beginnings of the messages `ExportHealth` stands in for.
_SDK_EXPORT_LINES: Final = {
    # The OTLP/gRPC exporters: one line per retry and one per batch given up on.
    "opentelemetry.exporter.otlp.proto.grpc.exporter": ("Transient error", "Failed to export"),
    # The batch processors: a line (at most every 20 s) while the queue overflows.
    "opentelemetry.sdk._shared_internal": ("Queue full",),
}


class ExportHealth:
    """One signal's export state: logs its transitions, counts failures and drops (thread-safe)."""

    def __init__(
        self, signal: str, endpoint: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.signal = signal
        # An endpoint's user-info (``user:token@host``) never reaches a log line.
        self.endpoint = endpoint.rpartition("@")[2]
        self._clock = clock
        self._lock = threading.Lock()
        self._up = True
        self._last_status = "UNKNOWN"
        self._failures = 0
        self._dropped: dict[DropReason, int] = dict.fromkeys(DROP_REASONS, 0)
        # Where the counters stood when the current outage began (for the recovery line).
        self._down_since = 0.0
        self._failures_before = 0
        self._dropped_before = 0

    @property
    def up(self) -> bool:
        """Whether the last export succeeded (True before the first one)."""
        return self._up

    @property
    def failures(self) -> int:
        """Batches the exporter gave up on, since the process started."""
        return self._failures

    def dropped(self, reason: DropReason) -> int:
        """Items lost for ``reason`` since the process started."""
        return self._dropped[reason]

    def rpc_failed(self, status: str) -> None:
        """Note the gRPC status of a failed attempt; the next failure line names it."""
        self._last_status = status

    def queue_full(self) -> None:
        """Count one item the batch queue had no room for."""
        with self._lock:
            self._dropped["queue_full"] += 1

    def exported(self, *, ok: bool, items: int) -> None:
        """Record one batch's outcome; log the first failure and the first success after it."""
        with self._lock:
            if not ok:
                self._failures += 1
                self._dropped["export_failed"] += items
            went_down, came_back = self._up and not ok, ok and not self._up
            if went_down:
                self._down_since = self._clock()
                self._failures_before = self._failures - 1
                self._dropped_before = sum(self._dropped.values()) - items
            self._up = ok
            outage = (
                (
                    self._clock() - self._down_since,
                    self._failures - self._failures_before,
                    sum(self._dropped.values()) - self._dropped_before,
                )
                if came_back
                else None
            )
        if went_down:
            _log.warning(
                "telemetry export failing; further failures are counted, not logged",
                extra={
                    "signal": self.signal,
                    "endpoint": self.endpoint,
                    "grpc_status": self._last_status,
                },
            )
        if outage is not None:
            seconds, failed_batches, dropped_items = outage
            _log.info(
                "telemetry export recovered",
                extra={
                    "signal": self.signal,
                    "endpoint": self.endpoint,
                    "outage_seconds": round(seconds, 1),
                    "failed_batches": failed_batches,
                    "dropped_items": dropped_items,
                },
            )


class ExportHealthCollector(Collector):
    """The three ``telemetry_*`` families, read from each signal's `ExportHealth` at scrape time."""

    def __init__(self, healths: Sequence[ExportHealth]) -> None:
        self._healths = tuple(healths)

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        up, failures, dropped = self._families()
        for health in self._healths:
            up.add_metric((health.signal,), 1.0 if health.up else 0.0)
            failures.add_metric((health.signal,), health.failures)
            for reason in DROP_REASONS:
                dropped.add_metric((health.signal, reason), health.dropped(reason))
        yield from (up, failures, dropped)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, CounterMetricFamily, CounterMetricFamily]:
        return (
            GaugeMetricFamily(
                "telemetry_exporter_up",
                "1 while the signal's last OTLP export succeeded, 0 after a failed one.",
                labels=("signal",),
            ),
            CounterMetricFamily(
                "telemetry_export_failures",
                "OTLP export batches the exporter gave up on (after its retries).",
                labels=("signal",),
            ),
            CounterMetricFamily(
                "telemetry_items_dropped",
                "Spans or log records lost: in a failed batch, or the batch queue was full.",
                labels=("signal", "reason"),
            ),
        )


class _SdkExportLineFilter(logging.Filter):
    """Drops the SDK lines whose message begins with one of ``prefixes``."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(self.prefixes))


def quiet_sdk_export_logs() -> None:
    """Drop the SDK's per-retry export lines, which `ExportHealth` replaces (idempotent)."""
    for name, prefixes in _SDK_EXPORT_LINES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _SdkExportLineFilter) for f in logger.filters):
            logger.addFilter(_SdkExportLineFilter(prefixes))
