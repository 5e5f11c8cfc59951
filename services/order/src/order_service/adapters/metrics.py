"""The order service's own metric families, declared once on the process's registry.

`OrderMetrics` belong to the gRPC service (the outbox backlog too: it is watched by the process
that writes the outbox, so a stopped or frozen relay cannot hide its own backlog);
`RelayMetrics` to whichever process runs the outbox relay.
"""

from __future__ import annotations

from observability import Metrics
from order_service.adapters.circuit_breaker import BreakerState


class OrderMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.orders_created = metrics.counter(
            "orders_created", "Orders created (replays of an idempotency key not counted)."
        )
        self.orders_cancelled = metrics.counter("orders_cancelled", "Orders cancelled.")
        self.idempotent_replays = metrics.counter(
            "order_idempotent_replays", "CreateOrder calls answered with an earlier order."
        )
        self.breaker_state = metrics.gauge(
            "circuit_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ("breaker",),
        )
        self.breaker_transitions = metrics.counter(
            "circuit_breaker_transitions",
            "Circuit breaker state changes, by the state entered.",
            ("breaker", "state"),
        )
        self.client_retries = metrics.counter(
            "http_client_retries",
            "Outgoing HTTP requests retried, by peer and reason.",
            ("peer", "reason"),
        )
        self.breaker_rejections = metrics.counter(
            "circuit_breaker_rejections",
            "Calls refused at once because the circuit was open.",
            ("breaker",),
        )
        self.outbox_backlog = metrics.gauge(
            "outbox_backlog_events", "Outbox rows not yet published to Kafka."
        )
        self.outbox_oldest_age = metrics.gauge(
            "outbox_oldest_event_age_seconds",
            "Age of the oldest unpublished outbox row (0 when the outbox is empty).",
        )

    def on_state(self, name: str, state: BreakerState) -> None:
        """`CircuitBreaker` observer: keep the gauge and the transition counter current."""
        self.breaker_state.labels(name).set(int(state))
        self.breaker_transitions.labels(name, state.name.lower()).inc()


class RelayMetrics:
    """The outbox relay's families: declared only by the process that runs a relay, so a
    process without one never shows a relay that looks disconnected."""

    def __init__(self, metrics: Metrics) -> None:
        self.outbox_published = metrics.counter(
            "outbox_events_published", "Outbox rows published to Kafka and removed."
        )
        self.outbox_publish_failures = metrics.counter(
            "outbox_publish_failures", "Relay batches that failed and will be retried."
        )
        self.relay_connected = metrics.gauge(
            "outbox_relay_connected", "1 while the relay's Kafka producer is connected."
        )
        self.relay_batch_seconds = metrics.histogram(
            "outbox_relay_batch_seconds",
            "Time to claim, publish and delete one batch of outbox rows.",
        )
