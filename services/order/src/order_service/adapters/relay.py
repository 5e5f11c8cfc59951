"""The outbox relay: publishes outbox rows to Kafka and deletes them, in one transaction.

Each pass claims the oldest rows with ``FOR UPDATE SKIP LOCKED`` (so two relays — two
replicas of the service — never publish the same row) by deleting them in a transaction,
hands them all to the idempotent producer (``acks=all``), waits for every acknowledgement and
only then commits; a failed publish rolls the delete back. A crash between the
acknowledgement and the commit publishes a batch twice, never loses one: delivery is at least
once and consumers de-duplicate on the `event-id` header.

While Kafka is away the rows simply stay; the relay backs off exponentially (with jitter) up
to ``backoff_max_seconds`` and reconnects with a fresh producer. The backlog is watched by the
gRPC service, not here (adapters/outbox_backlog.py), so it stays visible while the relay is not.

Each record gets a PRODUCER span whose parent is the trace context stored with the row — the
request that created the order — so the consumer's span joins that same trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observability import Telemetry
from observability.kafka import inject_headers
from order_service.adapters.kafka_batches import BatchProducer, PartitionBatches
from order_service.adapters.metrics import RelayMetrics

_log = logging.getLogger(__name__)

# The oldest rows first, skipping rows another relay holds right now.
# Claim = delete, inside the transaction that stays open until Kafka has acknowledged every
# row: one round trip instead of a SELECT and a DELETE. The rows are locked by the delete, so
# another relay's SKIP LOCKED passes over them; if publishing fails, the rollback brings them
# back.
_CLAIM = text(
    "WITH claimed AS MATERIALIZED ("
    "SELECT sequence FROM outbox ORDER BY sequence LIMIT :limit FOR UPDATE SKIP LOCKED"
    ") DELETE FROM outbox USING claimed WHERE outbox.sequence = claimed.sequence "
    "RETURNING outbox.sequence, outbox.topic, outbox.key, outbox.value, outbox.headers"
)


class Producer(BatchProducer, Protocol):
    """What the relay needs of an ``aiokafka.AIOKafkaProducer``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        producer_factory: Callable[[], Producer],
        prepare: Callable[[], Awaitable[None]],
        telemetry: Telemetry,
        metrics: RelayMetrics,
        batch_size: int,
        idle_poll_seconds: float,
        publish_timeout_seconds: float,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
        linger_seconds: float = 0.005,
    ) -> None:
        self._engine = engine
        self._producer_factory = producer_factory
        self._prepare = prepare
        self._tracer = telemetry.tracer("order_service.relay")
        self._telemetry = telemetry
        self._metrics = metrics
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._backoff = (backoff_initial_seconds, backoff_max_seconds)
        self._linger = linger_seconds
        self._producer: Producer | None = None
        self._prepared = False
        self._wakeup = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._producer is not None

    def wake(self) -> None:
        """New rows were committed: publish now rather than at the next poll."""
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, seconds_left: float) -> None:
        """Publish what is left while time allows, finish the batch in flight, disconnect.

        Rows still unpublished stay in the outbox for the next start: nothing is lost.
        """
        self._stop_requested.set()
        self._wakeup.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(max(seconds_left - 1.0, 0.1)):
                    await asyncio.gather(self._task, return_exceptions=True)
            except TimeoutError:
                _log.warning("outbox relay did not finish its batch in the grace period")
        await self._disconnect()

    async def _run(self) -> None:
        backoff = self._backoff[0]
        while True:
            try:
                await self._connect()
                published = await self.publish_batch()
            except Exception as error:
                self._metrics.outbox_publish_failures.inc()
                _log.warning(
                    "outbox relay cannot publish; backing off",
                    extra={"error.type": type(error).__name__, "backoff_seconds": backoff},
                )
                await self._disconnect()
                if self._stop_requested.is_set():
                    return
                await self._sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                backoff = min(backoff * 2, self._backoff[1])
                if self._stop_requested.is_set():
                    return
                continue
            backoff = self._backoff[0]
            if published < self._batch_size:
                if self._stop_requested.is_set():
                    return
                await self._sleep(self._idle_poll)

    async def _sleep(self, seconds: float) -> None:
        """Sleep until ``seconds`` pass or `wake` is called, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()
                # Woken by a commit: let the commits arriving with it join the same batch.
                await asyncio.sleep(self._linger)
        self._wakeup.clear()

    async def _connect(self) -> None:
        if self._producer is not None:
            return
        if not self._prepared:
            await self._prepare()
            self._prepared = True
        producer = self._producer_factory()
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer
        self._metrics.relay_connected.set(1)
        _log.info("outbox relay connected to Kafka")

    async def _disconnect(self) -> None:
        producer, self._producer = self._producer, None
        self._metrics.relay_connected.set(0)
        if producer is None:
            return
        # stop() flushes what is queued; after a failed publish nothing is (batches expire
        # before our publish timeout), so this is quick even with the broker gone.
        try:
            async with asyncio.timeout(self._publish_timeout):
                await producer.stop()
        except Exception:
            _log.warning("the Kafka producer did not stop cleanly", exc_info=True)

    async def publish_batch(self) -> int:
        """Claim, publish and delete up to one batch of rows; the number published."""
        assert self._producer is not None
        started = time.perf_counter()
        async with self._engine.begin() as connection:
            claimed = (await connection.execute(_CLAIM, {"limit": self._batch_size})).all()
            if not claimed:
                return 0
            # RETURNING keeps no order: publish in the order the rows were written.
            rows = sorted(claimed, key=lambda row: row.sequence)
            spans = []
            try:
                async with asyncio.timeout(self._publish_timeout):
                    batches = PartitionBatches(self._producer)
                    for row in rows:
                        span, headers = self._traced_headers(row)
                        spans.append(span)
                        await batches.add(row.topic, key=row.key, value=row.value, headers=headers)
                    await asyncio.gather(*await batches.send())
            except BaseException as error:
                for span in spans:
                    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                    span.end()
                self._count_produced(rows, ok=False)
                raise
            for span in spans:
                span.end()
        self._count_produced(rows, ok=True)
        self._metrics.outbox_published.inc(len(rows))
        self._metrics.relay_batch_seconds.observe(time.perf_counter() - started)
        return len(rows)

    def _traced_headers(self, row: Any) -> tuple[Span, list[tuple[str, bytes]]]:
        """The record's PRODUCER span (child of the stored context) and its headers."""
        # The stored headers are already a str -> str mapping: the propagator reads it as is.
        stored: dict[str, str] = row.headers
        parent = propagate.extract(stored)
        span = self._tracer.start_span(
            f"send {row.topic}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": row.topic,
                "messaging.message.id": stored.get("event-id", ""),
            },
        )
        # The stored trace context is replaced by the PRODUCER span's, never duplicated.
        headers = inject_headers(
            [(key, value.encode()) for key, value in stored.items()],
            context=set_span_in_context(span, parent),
        )
        return span, headers

    def _count_produced(self, rows: Sequence[Any], *, ok: bool) -> None:
        """``kafka_messages_produced_total``, one increment per topic and batch."""
        for topic, count in Counter(row.topic for row in rows).items():
            self._telemetry.metrics.kafka_produced.labels(topic, "ok" if ok else "error").inc(count)
