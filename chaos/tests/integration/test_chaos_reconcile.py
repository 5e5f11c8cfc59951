"""Reconciliation on a real PostgreSQL and Kafka: a consistent data set reconciles, and a lost
event, a double-applied one, an unpublished outbox row and wrong statistics are each found.

Each test writes both services' databases (migrated by the services' own migrations) and an
orders.v1 topic of its own the way the services do: orders and outbox rows, contract-encoded
events, the consumer's inbox rows and statistics.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import create_async_engine

from order_service.adapters import migrations as order_migrations
from order_service.adapters.tables import orders, outbox
from threadline_chaos.reconcile import ReconcileTarget, reconcile
from threadline_chaos.record import Reconciliation
from threadline_contracts.events.v1 import order_events_pb2
from threadline_testing.plugin import DatabaseFactory
from user_service.adapters import migrations as user_migrations
from user_service.adapters.tables import order_events_inbox, users

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Shop:
    """Both services' records of the same orders, written as the running services would."""

    target: ReconcileTarget
    producer: AIOKafkaProducer
    users: list[uuid.UUID] = field(default_factory=list)

    async def add_user(self, *, order_count: int = 0, cents: int = 0) -> uuid.UUID:
        user_id = uuid.uuid4()
        await self._execute(
            self.target.user_database_url,
            insert(users).values(
                id=user_id,
                email=f"{user_id.hex[:12]}@example.com",
                full_name="Drill Customer",
                password_hash="not-a-hash",
                order_count=order_count,
                total_spent_cents=cents,
                created_at=NOW,
                updated_at=NOW,
            ),
        )
        return user_id

    async def add_order_row(self, user_id: uuid.UUID, cents: int, *, cancelled: bool) -> uuid.UUID:
        order_id = uuid.uuid4()
        await self._execute(
            self.target.order_database_url,
            insert(orders).values(
                id=order_id,
                user_id=user_id,
                status="cancelled" if cancelled else "created",
                lines=[{"product_id": "p", "quantity": 1, "unit_price_minor": cents}],
                currency_code="EUR",
                total_minor=cents,
                idempotency_key=order_id.hex,
                request_fingerprint="f" * 64,
                created_at=NOW,
                updated_at=NOW,
            ),
        )
        return order_id

    async def publish(
        self, order_id: uuid.UUID, user_id: uuid.UUID, cents: int, *, kind: str, times: int = 1
    ) -> uuid.UUID:
        """One event on the topic (`times` > 1: redelivered records of the same event)."""
        event_id = uuid.uuid4()
        message = order_events_pb2.OrderEvent(
            event_id=str(event_id), order_id=str(order_id), user_id=str(user_id)
        )
        if kind == "created":
            message.created.CopyFrom(
                order_events_pb2.OrderCreated(currency_code="EUR", total_minor_units=cents)
            )
        else:
            message.cancelled.CopyFrom(
                order_events_pb2.OrderCancelled(currency_code="EUR", total_minor_units=cents)
            )
        for _ in range(times):
            await self.producer.send_and_wait(
                self.target.orders_topic, message.SerializeToString(), key=str(user_id).encode()
            )
        return event_id

    async def remember(self, event_id: uuid.UUID, order_id: uuid.UUID, *, kind: str) -> None:
        """The consumer's inbox row for an applied event."""
        await self._execute(
            self.target.user_database_url,
            insert(order_events_inbox).values(
                event_id=event_id, order_id=order_id, kind=kind, applied=True
            ),
        )

    async def order(self, user_id: uuid.UUID, cents: int, *, cancelled: bool = False) -> uuid.UUID:
        """An order that went all the way: row, events, inbox (statistics are set per user)."""
        order_id = await self.add_order_row(user_id, cents, cancelled=cancelled)
        created = await self.publish(order_id, user_id, cents, kind="created")
        await self.remember(created, order_id, kind="created")
        if cancelled:
            cancel = await self.publish(order_id, user_id, cents, kind="cancelled")
            await self.remember(cancel, order_id, kind="cancelled")
        return order_id

    async def set_stats(self, user_id: uuid.UUID, *, order_count: int, cents: int) -> None:
        await self._execute(
            self.target.user_database_url,
            update(users)
            .where(users.c.id == user_id)
            .values(order_count=order_count, total_spent_cents=cents),
        )

    async def leave_outbox_row(self, order_id: uuid.UUID) -> None:
        await self._execute(
            self.target.order_database_url,
            insert(outbox).values(
                event_id=uuid.uuid4(),
                topic=self.target.orders_topic,
                key=b"k",
                value=b"",
                headers={"event-type": "order.created", "order-id": str(order_id)},
            ),
        )

    async def _execute(self, url: str, statement: object) -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(statement)  # type: ignore[call-overload]
        finally:
            await engine.dispose()


@pytest.fixture
def databases(database_factory: DatabaseFactory) -> tuple[str, str]:
    """The order service's and the user service's databases, migrated (Alembic runs its own
    event loop, so this fixture is synchronous)."""
    order_database, user_database = database_factory(), database_factory()
    order_migrations.upgrade_to_head(order_database)
    user_migrations.upgrade_to_head(user_database)
    return order_database, user_database


@pytest_asyncio.fixture
async def shop(
    databases: tuple[str, str],
    kafka_bootstrap: str,
    kafka_topic: Callable[..., Awaitable[str]],
) -> AsyncIterator[Shop]:
    order_database, user_database = databases
    topic = await kafka_topic(partitions=3, prefix="orders")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        yield Shop(
            target=ReconcileTarget(
                order_database_url=order_database,
                user_database_url=user_database,
                kafka_bootstrap_servers=kafka_bootstrap,
                orders_topic=topic,
                dead_letter_topic=f"{topic}.dlq",
            ),
            producer=producer,
        )
    finally:
        await producer.stop()


async def consistent(shop: Shop) -> tuple[uuid.UUID, uuid.UUID]:
    """Two customers: one with an order and a cancelled one, one with a single order."""
    first, second = await shop.add_user(), await shop.add_user()
    await shop.order(first, 1000)
    await shop.order(first, 500, cancelled=True)
    await shop.order(second, 700)
    await shop.set_stats(first, order_count=1, cents=1000)
    await shop.set_stats(second, order_count=1, cents=700)
    return first, second


async def run(shop: Shop, *, quiesce_timeout_s: float = 10.0) -> Reconciliation:
    return await reconcile(
        target=shop.target, quiesce_timeout_s=quiesce_timeout_s, poll_interval_s=0.2
    )


async def test_a_consistent_data_set_reconciles_and_counts_every_record(shop: Shop) -> None:
    first, _ = await consistent(shop)
    # At-least-once delivery: a record published twice and applied once is not a fault.
    order_id = await shop.add_order_row(first, 300, cancelled=False)
    event_id = await shop.publish(order_id, first, 300, kind="created", times=2)
    await shop.remember(event_id, order_id, kind="created")
    await shop.set_stats(first, order_count=2, cents=1300)

    result = await run(shop)

    assert result.problems == ()
    assert result.consistent
    assert result.in_flight == ()
    assert (result.orders_in_database, result.live_orders_in_database) == (4, 3)
    assert (result.orders_on_topic, result.events_on_topic) == (4, 5)
    assert result.redelivered_records_on_topic == 1
    assert result.events_in_inbox == 5
    assert (result.orders_in_user_stats, result.cents_in_user_stats) == (3, 2000)
    assert result.live_cents_in_database == 2000
    assert (result.unpublished_outbox_rows, result.dead_lettered_records) == (0, 0)


async def test_an_order_whose_event_was_lost_is_named(shop: Shop) -> None:
    _, second = await consistent(shop)
    lost = await shop.add_order_row(second, 900, cancelled=False)

    result = await run(shop)

    assert f"1 orders have no order-created event on orders.v1: {lost}" in result.problems
    assert (
        f"1 users' applied events differ from their live orders in the orders database: "
        f"user {second}: applied events 1 orders / 700 cents, orders database 2 orders / "
        f"1600 cents" in result.problems
    )


async def test_an_event_applied_twice_is_found_in_the_statistics(shop: Shop) -> None:
    first, _ = await consistent(shop)
    await shop.set_stats(first, order_count=2, cents=2000)  # the order of 1000 counted twice

    result = await run(shop)

    assert result.problems == (
        "1 users' statistics count more orders than the inbox applied (an event applied "
        f"twice): user {first} counts 2 orders, its applied events 1",
    )


async def test_an_order_applied_under_two_event_ids_is_found(shop: Shop) -> None:
    first, _ = await consistent(shop)
    order_id = await shop.order(first, 400)
    again = await shop.publish(order_id, first, 400, kind="created")
    await shop.remember(again, order_id, kind="created")
    await shop.set_stats(first, order_count=3, cents=1800)

    result = await run(shop)

    assert (
        f"1 orders have more than one order-created event (different event ids) on orders.v1: "
        f"{order_id}" in result.problems
    )
    assert (
        "1 orders were applied to the statistics more than once (several creation events in "
        f"the inbox): {order_id}" in result.problems
    )


async def test_an_unpublished_outbox_row_is_reported_after_the_bounded_wait(shop: Shop) -> None:
    await consistent(shop)
    await shop.leave_outbox_row(uuid.uuid4())

    result = await run(shop, quiesce_timeout_s=1.0)

    assert result.problems == ("1 outbox rows were left unpublished",)
    assert result.unpublished_outbox_rows == 1
    assert result.in_flight == ("1 outbox rows not yet published",)
    assert 1.0 <= result.waited_s < 5.0


async def test_statistics_that_differ_from_the_applied_events_are_named(shop: Shop) -> None:
    _, second = await consistent(shop)
    await shop.set_stats(second, order_count=1, cents=650)

    result = await run(shop)

    assert result.problems == (
        "1 users' statistics differ from the events the inbox applied: "
        f"user {second}: statistics 1 orders / 650 cents, applied events 1 orders / 700 cents",
    )


async def test_an_event_the_consumer_never_recorded_is_named(shop: Shop) -> None:
    first, _ = await consistent(shop)
    order_id = await shop.add_order_row(first, 200, cancelled=False)
    event_id = await shop.publish(order_id, first, 200, kind="created")

    result = await run(shop, quiesce_timeout_s=1.0)

    assert (
        f"1 events on orders.v1 never reached the user service's inbox: {event_id}"
        in result.problems
    )
    assert result.in_flight == ("1 events on orders.v1 not yet in the user service's inbox",)


async def test_a_topic_not_created_yet_counts_as_empty(shop: Shop) -> None:
    await shop.add_user()

    result = await reconcile(
        target=ReconcileTarget(
            order_database_url=shop.target.order_database_url,
            user_database_url=shop.target.user_database_url,
            kafka_bootstrap_servers=shop.target.kafka_bootstrap_servers,
            orders_topic=f"absent.{uuid.uuid4().hex[:8]}",
        ),
        quiesce_timeout_s=5.0,
        poll_interval_s=0.2,
    )

    assert result.consistent
    assert result.events_on_topic == 0
