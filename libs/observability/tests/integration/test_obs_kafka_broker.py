"""Trace context crosses a real Kafka broker in the message headers; lag and counts are kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from observability import Telemetry
from observability.kafka import consume_span, inject_headers, record_consumer_lag

pytestmark = pytest.mark.integration


async def test_consumer_span_continues_the_producer_trace_through_a_broker(
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    kafka_bootstrap: str,
    kafka_topic: Callable[..., Awaitable[str]],
    unique_name: str,
) -> None:
    topic = await kafka_topic(partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        with telemetry.tracer("test").start_as_current_span("relay publish") as publish:
            await producer.send_and_wait(
                topic,
                b"order-created",
                key=b"user-1",
                headers=inject_headers([("event-id", b"e-1")]),
            )
            telemetry.metrics.kafka_message_produced(topic)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique_name,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        with consume_span(telemetry, record, group=unique_name):
            assert record.value == b"order-created"
        await consumer.commit()
        await record_consumer_lag(telemetry, consumer)
    finally:
        await consumer.stop()

    (process,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CONSUMER]
    assert process.context.trace_id == publish.get_span_context().trace_id
    assert process.parent is not None
    assert process.parent.span_id == publish.get_span_context().span_id
    registry = telemetry.metrics.registry
    assert (
        registry.get_sample_value(
            "kafka_messages_consumed_total", {"topic": topic, "outcome": "ok"}
        )
        == 1
    )
    assert registry.get_sample_value("kafka_consumer_lag", {"topic": topic, "partition": "0"}) == 0
    assert TopicPartition(topic, 0) == TopicPartition(record.topic, record.partition)
