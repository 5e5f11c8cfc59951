"""Data reconciliation after a drill: orders database == orders.v1 == user statistics.

    reconciliation = await reconcile(target=ReconcileTarget.for_stack(), quiesce_timeout_s=60)
    if not reconciliation.consistent:
        print(*reconciliation.problems, sep="\\n")

Compares all data, not only the drill's, so it needs no bookkeeping of which orders a drill
made; traffic still in flight is waited for instead. Each round reads the order database
(orders and outbox), orders.v1 up to its end and the user database (inbox and statistics);
the pipeline is quiet when the outbox is empty, every event on the topic is in the inbox and
the order count did not move since the previous round. Then (or when the wait runs out, saying
what was still moving) the three are compared (`compare`).
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from threadline_chaos.reconcile.compare import compare, unknown_users
from threadline_chaos.reconcile.databases import read_order_side, read_user_side
from threadline_chaos.reconcile.facts import OrderSide, TopicSide, UserSide
from threadline_chaos.reconcile.target import ReconcileTarget
from threadline_chaos.reconcile.topic import TopicReader
from threadline_chaos.record import Reconciliation


async def reconcile(
    *,
    target: ReconcileTarget,
    quiesce_timeout_s: float = 60.0,
    poll_interval_s: float = 0.5,
) -> Reconciliation:
    """Wait for the event pipeline to go quiet (bounded), then compare all three records."""
    order_engine = create_async_engine(target.order_database_url, pool_size=1)
    user_engine = create_async_engine(target.user_database_url, pool_size=1)
    started = time.monotonic()
    try:
        async with TopicReader(
            bootstrap_servers=target.kafka_bootstrap_servers, topic=target.orders_topic
        ) as reader:
            order_side, user_side, in_flight = await _until_quiet(
                order_engine,
                user_engine,
                reader,
                deadline=started + quiesce_timeout_s,
                poll_interval_s=poll_interval_s,
            )
            topic = TopicSide(
                records=list(reader.events),
                undecodable_records=reader.undecodable,
                dead_lettered_records=await reader.record_count(target.dead_letter_topic),
            )
    finally:
        await order_engine.dispose()
        await user_engine.dispose()
    return _summary(
        order_side, topic, user_side, waited_s=time.monotonic() - started, in_flight=in_flight
    )


async def _until_quiet(
    order_engine: AsyncEngine,
    user_engine: AsyncEngine,
    reader: TopicReader,
    *,
    deadline: float,
    poll_interval_s: float,
) -> tuple[OrderSide, UserSide, list[str]]:
    """Read all three sides in rounds until nothing moves or the deadline; the last round and
    what was still in flight then."""
    previous_orders: int | None = None
    while True:
        order_side = await read_order_side(order_engine)
        await reader.read_to_end()
        user_side = await read_user_side(user_engine)
        in_flight = _in_flight(order_side, events_in_inbox=user_side, reader=reader)
        steady = previous_orders == len(order_side.orders)
        if not in_flight and steady:
            return order_side, user_side, []
        if time.monotonic() >= deadline:
            if not steady and previous_orders is not None:
                in_flight.append(
                    f"orders were still being created ({previous_orders} -> "
                    f"{len(order_side.orders)} in the last round)"
                )
            return order_side, user_side, in_flight
        previous_orders = len(order_side.orders)
        await asyncio.sleep(poll_interval_s)


def _in_flight(
    order_side: OrderSide, *, events_in_inbox: UserSide, reader: TopicReader
) -> list[str]:
    moving: list[str] = []
    if order_side.unpublished_outbox_rows:
        moving.append(f"{order_side.unpublished_outbox_rows} outbox rows not yet published")
    unconsumed = {e.event_id for e in reader.events} - events_in_inbox.inbox.keys()
    if unconsumed:
        moving.append(f"{len(unconsumed)} events on orders.v1 not yet in the user service's inbox")
    return moving


def _summary(
    order_side: OrderSide,
    topic: TopicSide,
    user_side: UserSide,
    *,
    waited_s: float,
    in_flight: list[str],
) -> Reconciliation:
    orders = order_side.orders.values()
    live = [row for row in orders if not row.cancelled]
    distinct_events = {event.event_id for event in topic.records}
    deleted = unknown_users(order_side, user_side)
    notes = [f"{len(deleted)} users with orders no longer exist (not counted)"] if deleted else []
    return Reconciliation(
        orders_in_database=len(order_side.orders),
        live_orders_in_database=len(live),
        orders_on_topic=len({e.order_id for e in topic.records if e.kind == "created"}),
        events_on_topic=len(distinct_events),
        redelivered_records_on_topic=len(topic.records) - len(distinct_events),
        dead_lettered_records=topic.dead_lettered_records,
        events_in_inbox=len(user_side.inbox),
        orders_in_user_stats=sum(s.order_count for s in user_side.stats.values()),
        cents_in_user_stats=sum(s.total_spent_cents for s in user_side.stats.values()),
        live_cents_in_database=sum(row.total_minor for row in live),
        unpublished_outbox_rows=order_side.unpublished_outbox_rows,
        waited_s=round(waited_s, 1),
        problems=tuple(compare(order_side, topic, user_side)),
        in_flight=tuple(in_flight + notes),
    )


__all__ = ["ReconcileTarget", "reconcile"]
