"""The orders.v1 consumer: order events from Kafka -> the users' order statistics.

* One consumer group; each partition's offsets are committed only after the database
  transactions of its records have committed, so a crash re-delivers, never skips.
* Each record is applied in its own transaction through the inbox (`service_layer.order_stats`),
  so a re-delivered event changes nothing; the cached user is invalidated afterwards, so
  the statistics on GET /v1/users/{id} are current.
* A record that keeps failing is retried ``max_attempts`` times with backoff, then sent to the
  dead-letter topic (orders.v1.dlq) with why, and the partition moves on. A record that
  cannot even be decoded goes there at once.
* Each record is processed under a CONSUMER span that continues the producer's trace;
  `kafka_consumer_lag{topic,partition}` is updated after every batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from google.protobuf.message import DecodeError
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from observability import Telemetry
from observability.kafka import consume_span, record_consumer_lag
from threadline_contracts.events.v1 import order_events_pb2
from user_service.adapters.order_events_inbox import SqlOrderEventInbox
from user_service.domain.order_events import OrderEventFacts, OrderEventKind, StatsOutcome
from user_service.service_layer.order_stats import apply_order_event
from user_service.service_layer.ports import UserCache

if TYPE_CHECKING:
    from user_service.settings import Settings

_log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS: Final = 36
_INFRASTRUCTURE_ERRORS: Final = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class UndecodableEventError(ValueError):
    """The record is not an order event we can read: retrying will not help."""


def decode_event(value: bytes | None) -> OrderEventFacts:
    """The facts in an orders.v1 record value; `UndecodableEventError` when unreadable."""
    try:
        event = order_events_pb2.OrderEvent.FromString(value or b"")
        payload = event.WhichOneof("payload")
        if payload == "created":
            kind, total = OrderEventKind.CREATED, event.created.total_minor_units
        elif payload == "cancelled":
            kind, total = OrderEventKind.CANCELLED, event.cancelled.total_minor_units
        else:
            raise UndecodableEventError(f"no known payload ({payload!r})")
        if total < 0:
            raise UndecodableEventError("negative total")
        return OrderEventFacts(
            event_id=uuid.UUID(event.event_id),
            order_id=uuid.UUID(event.order_id),
            user_id=uuid.UUID(event.user_id),
            kind=kind,
            total_cents=total,
        )
    except (DecodeError, ValueError) as error:
        if isinstance(error, UndecodableEventError):
            raise
        raise UndecodableEventError(str(error)) from error


class OrderEventsConsumer:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        cache: UserCache,
        telemetry: Telemetry,
        bootstrap_servers: str,
        topic: str,
        dlq_topic: str,
        group: str,
        topic_partitions: int = 3,
        max_attempts: int = 5,
        retry_backoff_seconds: float = 0.2,
        reconnect_backoff_seconds: float = 2.0,
    ) -> None:
        self._engine = engine
        self._cache = cache
        self._telemetry = telemetry
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._dlq_topic = dlq_topic
        self._group = group
        self._topic_partitions = topic_partitions
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff_seconds
        self._reconnect_backoff = reconnect_backoff_seconds
        self._tracer = telemetry.tracer("user_service.order_events")
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connected = False
        self._outcomes = telemetry.metrics.counter(
            "order_events",
            "Order events handled by the statistics consumer, by outcome.",
            ("outcome",),
        )

    @property
    def connected(self) -> bool:
        return self._connected

    async def check(self) -> None:
        """Health check: raises while the consumer is not connected to Kafka."""
        if not self._connected:
            raise ConnectionError("the orders consumer is not connected to Kafka")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="orders-consumer")

    async def stop(self, seconds_left: float = 10.0) -> None:
        """Finish the record in hand, commit what is done, leave the group."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            async with asyncio.timeout(max(seconds_left, 0.1)):
                await asyncio.shield(self._task)
        except TimeoutError:
            _log.warning("orders consumer did not stop in time; cancelling it")
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._consume()
            except Exception:
                self._connected = False
                _log.warning("orders consumer lost Kafka; reconnecting", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._reconnect_backoff):
                        await self._stopping.wait()

    async def _ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(name, self._topic_partitions, replication_factor=1)
                for name in (self._topic, self._dlq_topic)
                if name not in existing
            ]
            if wanted:
                response = await admin.create_topics(wanted)
                for name, code, *_ in response.topic_errors:
                    if code not in (0, _TOPIC_ALREADY_EXISTS):
                        raise RuntimeError(f"cannot create topic {name} (error {code})")
        finally:
            await admin.close()

    async def _consume(self) -> None:
        await self._ensure_topics()
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            client_id="user-order-stats",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        dead_letters = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id="user-order-stats-dlq",
            enable_idempotence=True,
            acks="all",
        )
        await consumer.start()
        try:
            await dead_letters.start()
            self._connected = True
            _log.info("orders consumer started", extra={"kafka.group": self._group})
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=200)
                for partition, records in batch.items():
                    for record in records:
                        await self._handle(record, dead_letters)
                    # Only now, with every record's transaction committed.
                    await consumer.commit({partition: records[-1].offset + 1})
                if batch:
                    await record_consumer_lag(self._telemetry, consumer)
        finally:
            self._connected = False
            with contextlib.suppress(Exception):
                await dead_letters.stop()
            await consumer.stop()

    async def _handle(
        self, record: ConsumerRecord[Any, Any], dead_letters: AIOKafkaProducer
    ) -> None:
        with consume_span(self._telemetry, record, group=self._group) as span:
            error: Exception | None = None
            attempts = 0
            try:
                facts = decode_event(record.value)
            except UndecodableEventError as undecodable:
                error = undecodable
            else:
                span.set_attribute("messaging.message.id", str(facts.event_id))
                while attempts < self._max_attempts:
                    attempts += 1
                    try:
                        outcome = await self._apply(facts)
                    except _INFRASTRUCTURE_ERRORS:
                        # The database is away, not the record at fault: leave it uncommitted
                        # and reconnect; it is delivered again (and de-duplicated) later.
                        raise
                    except Exception as failure:
                        error = failure
                        _log.warning(
                            "applying an order event failed",
                            extra={"event.id": str(facts.event_id), "attempt": attempts},
                            exc_info=True,
                        )
                        if attempts < self._max_attempts:
                            await asyncio.sleep(self._retry_backoff * 2 ** (attempts - 1))
                        continue
                    self._outcomes.labels(outcome.value).inc()
                    return
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            await self._dead_letter(record, dead_letters, error, attempts)

    async def _apply(self, facts: OrderEventFacts) -> StatsOutcome:
        with self._tracer.start_as_current_span(
            "apply order event",
            attributes={"order.event.kind": facts.kind.value, "user.id": str(facts.user_id)},
        ):
            async with self._engine.begin() as connection:
                outcome = await apply_order_event(inbox=SqlOrderEventInbox(connection), event=facts)
        if outcome is StatsOutcome.APPLIED:
            # After the commit: a read in between caches the old row for at most this long.
            await self._cache.invalidate(facts.user_id)
        return outcome

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        dead_letters: AIOKafkaProducer,
        error: Exception | None,
        attempts: int,
    ) -> None:
        reason = f"{type(error).__name__}: {error}"[:500]
        headers = [
            *[(key, value) for key, value in record.headers or () if value is not None],
            ("dlq-reason", reason.encode()),
            ("dlq-source-topic", record.topic.encode()),
            ("dlq-source-partition", str(record.partition).encode()),
            ("dlq-source-offset", str(record.offset).encode()),
            ("dlq-attempts", str(attempts).encode()),
        ]
        await dead_letters.send_and_wait(
            self._dlq_topic, record.value, key=record.key, headers=headers
        )
        self._outcomes.labels("dead_lettered").inc()
        _log.error(
            "order event sent to the dead-letter topic",
            extra={
                "kafka.topic": record.topic,
                "kafka.partition": record.partition,
                "kafka.offset": record.offset,
                "dlq.reason": reason,
            },
        )


def order_events_consumer(
    settings: Settings, telemetry: Telemetry, *, engine: AsyncEngine, cache: UserCache
) -> OrderEventsConsumer:
    """The consumer as the settings describe it, writing through ``engine`` and invalidating
    ``cache`` (the Redis tier, which tells every replica's near cache)."""
    return OrderEventsConsumer(
        engine=engine,
        cache=cache,
        telemetry=telemetry,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.orders_topic,
        dlq_topic=settings.orders_dlq_topic,
        group=settings.orders_consumer_group,
        max_attempts=settings.orders_consumer_max_attempts,
        retry_backoff_seconds=settings.orders_consumer_retry_backoff_seconds,
    )
