"""Prometheus metrics: RED for servers and clients, cache/DB/Kafka helpers, business counters.

Every latency histogram carries a ``trace_id`` exemplar when the current span is sampled
(exemplars are exposed by the OpenMetrics format only). Label values come from closed sets:
routes are templates, unknown routes collapse to ``UNMATCHED_ROUTE``, methods outside the
HTTP verbs become ``_OTHER`` and status codes are classes (``2xx``) — no label grows without
bound. Request totals are the histograms' ``_count`` series; there is no separate counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from opentelemetry.trace import get_current_span
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

__all__ = [
    "LATENCY_BUCKETS",
    "UNMATCHED_ROUTE",
    "Metrics",
    "current_exemplar",
    "http_method_label",
    "status_class",
]

LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
UNMATCHED_ROUTE: Final = "<unmatched>"

_HTTP_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_STATUS_CLASSES: Final = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")


def http_method_label(method: str) -> str:
    """The method itself when it is a known HTTP verb, else ``_OTHER`` (as in OTel semconv)."""
    return method if method in _HTTP_METHODS else "_OTHER"


def status_class(status: int) -> str:
    """``2xx`` for 204; ``error`` for anything that is not an HTTP status."""
    index = status // 100
    return _STATUS_CLASSES[index] if 0 < index < len(_STATUS_CLASSES) else "error"


def current_exemplar() -> dict[str, str] | None:
    """``{"trace_id": ...}`` for the current span when it is sampled, else None.

    Only sampled traces are kept by the backend, so an exemplar pointing at an unsampled trace
    would be a dead link.
    """
    context = get_current_span().get_span_context()
    if not context.trace_flags.sampled:
        return None
    return {"trace_id": format(context.trace_id, "032x")}


class Metrics:
    """The process's metric families, registered in one `CollectorRegistry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.http_server_duration = self._histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests handled by this process, by route template.",
            ("method", "route", "status_class"),
        )
        self.grpc_server_duration = self._histogram(
            "grpc_server_handling_seconds",
            "Duration of gRPC calls handled by this process.",
            ("grpc_service", "grpc_method", "grpc_code"),
        )
        self.http_client_duration = self._histogram(
            "http_client_request_duration_seconds",
            "Duration of outgoing HTTP requests, by peer.",
            ("peer", "method", "status_class"),
        )
        self.grpc_client_duration = self._histogram(
            "grpc_client_handling_seconds",
            "Duration of outgoing gRPC calls.",
            ("grpc_service", "grpc_method", "grpc_code"),
        )
        self.cache_requests = Counter(
            "cache_requests",
            "Cache lookups by outcome (hit, miss, error).",
            ("cache", "result"),
            registry=registry,
        )
        # Read from the pools at scrape time (see `add_pool`), one family for every engine.
        self._pools: dict[str, Callable[[], dict[str, float]]] = {}
        registry.register(_PoolsCollector(self._pools))
        self.kafka_produced = Counter(
            "kafka_messages_produced",
            "Messages handed to Kafka, by outcome (ok, error).",
            ("topic", "outcome"),
            registry=registry,
        )
        self.kafka_consumed = Counter(
            "kafka_messages_consumed",
            "Messages consumed from Kafka, by outcome (ok, error, skipped).",
            ("topic", "outcome"),
            registry=registry,
        )
        self.kafka_consumer_lag = Gauge(
            "kafka_consumer_lag",
            "Messages between a partition's high watermark and the consumer's position.",
            ("topic", "partition"),
            registry=registry,
        )

    def _histogram(self, name: str, documentation: str, labels: tuple[str, ...]) -> Histogram:
        return Histogram(
            name, documentation, labels, buckets=LATENCY_BUCKETS, registry=self.registry
        )

    # Helpers with closed label sets ------------------------------------------------------

    def cache_hit(self, cache: str) -> None:
        """Count a cache hit."""
        self.cache_requests.labels(cache, "hit").inc()

    def cache_miss(self, cache: str) -> None:
        """Count a cache miss."""
        self.cache_requests.labels(cache, "miss").inc()

    def cache_error(self, cache: str) -> None:
        """Count a lookup the cache could not answer (it fell through to the source)."""
        self.cache_requests.labels(cache, "error").inc()

    def kafka_message_produced(self, topic: str, *, ok: bool = True) -> None:
        """Count one produced message."""
        self.kafka_produced.labels(topic, "ok" if ok else "error").inc()

    def kafka_message_consumed(self, topic: str, *, outcome: str = "ok") -> None:
        """Count one consumed message: ``ok``, ``error`` or ``skipped`` (e.g. a duplicate)."""
        self.kafka_consumed.labels(topic, outcome).inc()

    def set_kafka_lag(self, topic: str, partition: int, lag: int) -> None:
        """Record a partition's consumer lag."""
        self.kafka_consumer_lag.labels(topic, str(partition)).set(lag)

    def observe_http_client(self, *, peer: str, method: str, status: int, seconds: float) -> None:
        """Record one outgoing HTTP request (``status`` 0 when no response came back)."""
        self.http_client_duration.labels(
            peer, http_method_label(method), status_class(status)
        ).observe(seconds, current_exemplar())

    def add_pool(self, name: str, read: Callable[[], dict[str, float]]) -> None:
        """Expose ``db_pool_connections{pool=name,state=...}`` from ``read()`` at each scrape."""
        self._pools[name] = read

    # Business metrics --------------------------------------------------------------------

    def counter(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> Counter:
        """Declare a business counter, e.g. ``counter("orders_created", "Orders created.")``.

        The ``_total`` suffix is added by the exposition; pass the name without it.
        """
        return Counter(
            name.removesuffix("_total"), documentation, labelnames, registry=self.registry
        )

    def gauge(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> Gauge:
        """Declare a gauge, e.g. an outbox backlog."""
        return Gauge(name, documentation, labelnames, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...] = (),
        *,
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> Histogram:
        """Declare a histogram; observe it with ``exemplar=current_exemplar()``."""
        return Histogram(name, documentation, labelnames, buckets=buckets, registry=self.registry)

    def unregister(self, metric: MetricWrapperBase) -> None:
        """Remove a metric declared through this object (tests that build many apps)."""
        self.registry.unregister(metric)


class _PoolsCollector(Collector):
    """One ``db_pool_connections`` family for all pools: two families of one name break scrapes."""

    def __init__(self, pools: dict[str, Callable[[], dict[str, float]]]) -> None:
        self._pools = pools

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for pool, read in list(self._pools.items()):
            for state, value in read().items():
                family.add_metric((pool, state), value)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "db_pool_connections",
            "Database pool connections by state (checked_out, idle, overflow, size).",
            labels=("pool", "state"),
        )
