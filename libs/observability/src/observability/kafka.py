"""Kafka: W3C trace context in message headers, a consumer span per message, Kafka metrics.

Producing — carry the current trace in the headers::

    await producer.send_and_wait(topic, value, key=key, headers=inject_headers())

Consuming — continue the producer's trace while handling the message::

    async for record in consumer:
        with consume_span(telemetry, record, group="user-stats"):
            await handle(record)

``consume_span`` parents the span on the producer's context (one trace from the HTTP request to
the consumer) and counts ``kafka_messages_consumed_total{topic,outcome}``. The contrib aiokafka
instrumentation adds a span per send/receive; it is opt-in (`instrument_aiokafka`) because a
receive span per message is rarely worth its cost. Use one or the other for producing, not both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import (
    Link,
    SpanKind,
    Status,
    StatusCode,
    get_current_span,
    set_span_in_context,
)

from observability import escaped
from observability.propagation import extract_from_pairs, propagation_fields
from observability.span_errors import record_exception

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from observability.telemetry import Telemetry

__all__ = [
    "ConsumerRecordLike",
    "consume_span",
    "extract_context",
    "inject_headers",
    "instrument_aiokafka",
    "record_consumer_lag",
]

KafkaHeaders = Sequence[tuple[str, bytes | None]]


class ConsumerRecordLike(Protocol):
    """What `consume_span` reads from an ``aiokafka.ConsumerRecord``."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def headers(self) -> KafkaHeaders: ...


def inject_headers(
    headers: Iterable[tuple[str, bytes]] = (), *, context: Context | None = None
) -> list[tuple[str, bytes]]:
    """``headers`` plus the propagation headers of ``context`` (default: the current one).

    Existing propagation headers in ``headers`` are replaced, never duplicated.
    """
    fields = propagation_fields()
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    kept = [(key, value) for key, value in headers if key.lower() not in fields]
    return kept + [(key, value.encode("latin-1")) for key, value in carrier.items()]


def extract_context(headers: KafkaHeaders | None) -> Context:
    """The producer's context from a record's headers (an empty context when absent)."""
    return extract_from_pairs((key, value) for key, value in headers or () if value is not None)


@contextlib.contextmanager
def consume_span(
    telemetry: Telemetry,
    record: ConsumerRecordLike,
    *,
    group: str | None = None,
    link_only: bool = False,
) -> Iterator[Span]:
    """A CONSUMER ``process`` span for one record, child of (or linked to) the producer's span.

    ``link_only=True`` starts a new trace linked to the producer's instead, for batch consumers
    whose work does not belong to any single producer's trace. The consumed counter is
    incremented with outcome ``ok`` or ``error`` (the exception propagates).
    """
    producer_context = extract_context(record.headers)
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
    }
    if group is not None:
        attributes["messaging.consumer.group.name"] = group
    producer_span_context = get_current_span(producer_context).get_span_context()
    tracer = telemetry.tracer("observability.kafka")
    if link_only:
        links = [Link(producer_span_context)] if producer_span_context.is_valid else []
        span = tracer.start_span(
            f"process {record.topic}",
            context=otel_context.Context(),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
        )
    else:
        span = tracer.start_span(
            f"process {record.topic}",
            context=producer_context,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        )
    token = otel_context.attach(set_span_in_context(span))
    try:
        yield span
    except BaseException as error:
        record_exception(span, error, telemetry.redactor)
        # The consumer loop logs what a record's processing raised after this span ended.
        escaped.mark(error, span.get_span_context())
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR))
        telemetry.metrics.kafka_message_consumed(record.topic, outcome="error")
        raise
    else:
        telemetry.metrics.kafka_message_consumed(record.topic, outcome="ok")
    finally:
        span.end()
        otel_context.detach(token)


class _LagSource(Protocol):
    def assignment(self) -> Iterable[Any]: ...
    def highwater(self, partition: Any) -> int | None: ...
    async def position(self, partition: Any) -> int: ...


async def record_consumer_lag(telemetry: Telemetry, consumer: _LagSource) -> None:
    """Set ``kafka_consumer_lag{topic,partition}`` for every assigned partition.

    Call it periodically (e.g. after each batch); the high watermark comes from the last fetch.
    """
    for partition in consumer.assignment():
        highwater = consumer.highwater(partition)
        if highwater is None:
            continue
        position = await consumer.position(partition)
        telemetry.metrics.set_kafka_lag(
            partition.topic, partition.partition, max(highwater - position, 0)
        )


def instrument_aiokafka(telemetry: Telemetry) -> None:
    """Opt in to the contrib aiokafka instrumentation (a span per send and per received record)."""
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor  # noqa: PLC0415

    AIOKafkaInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
