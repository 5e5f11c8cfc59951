"""Snapshots of both services' databases, each read in one repeatable-read transaction.

The queries are built from the services' own table descriptions, so a schema change that
reconciliation does not follow fails here loudly rather than comparing the wrong columns.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from order_service.adapters.tables import orders, outbox
from threadline_chaos.reconcile.facts import InboxRow, OrderRow, OrderSide, UserSide, UserStats
from user_service.adapters.tables import order_events_inbox, users

# One consistent view per side: the consumer writes inbox and statistics in one transaction,
# and the order service writes an order and its outbox row in one.
_SNAPSHOT = {"isolation_level": "REPEATABLE READ"}


async def read_order_side(engine: AsyncEngine) -> OrderSide:
    """The orders and the number of unpublished outbox rows, as one snapshot."""
    async with engine.connect() as connection:
        await connection.execution_options(**_SNAPSHOT)
        async with connection.begin():
            rows = await connection.execute(
                select(orders.c.id, orders.c.user_id, orders.c.status, orders.c.total_minor)
            )
            order_rows = {
                row.id: OrderRow(
                    order_id=row.id,
                    user_id=row.user_id,
                    cancelled=row.status == "cancelled",
                    total_minor=row.total_minor,
                )
                for row in rows
            }
            waiting = await connection.scalar(select(func.count()).select_from(outbox))
    return OrderSide(orders=order_rows, unpublished_outbox_rows=int(waiting or 0))


async def read_user_side(engine: AsyncEngine) -> UserSide:
    """The inbox and every user's order statistics, as one snapshot."""
    async with engine.connect() as connection:
        await connection.execution_options(**_SNAPSHOT)
        async with connection.begin():
            inbox_rows = await connection.execute(
                select(
                    order_events_inbox.c.event_id,
                    order_events_inbox.c.order_id,
                    order_events_inbox.c.kind,
                    order_events_inbox.c.applied,
                )
            )
            inbox = {
                row.event_id: InboxRow(
                    event_id=row.event_id, order_id=row.order_id, kind=row.kind, applied=row.applied
                )
                for row in inbox_rows
            }
            stats_rows = await connection.execute(
                select(users.c.id, users.c.order_count, users.c.total_spent_cents)
            )
            stats = {
                row.id: UserStats(
                    order_count=row.order_count, total_spent_cents=row.total_spent_cents
                )
                for row in stats_rows
            }
    return UserSide(inbox=inbox, stats=stats)
