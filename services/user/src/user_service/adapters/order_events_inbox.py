"""`OrderEventInbox` on PostgreSQL: the inbox table and the users' statistics columns."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from user_service.adapters.tables import order_events_inbox, users
from user_service.domain.order_events import OrderEventFacts, OrderEventKind


class SqlOrderEventInbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def remember(self, event: OrderEventFacts, *, applied: bool) -> bool:
        statement = (
            insert(order_events_inbox)
            .values(
                event_id=event.event_id,
                order_id=event.order_id,
                kind=event.kind.value,
                applied=applied,
            )
            .on_conflict_do_nothing(index_elements=[order_events_inbox.c.event_id])
            .returning(order_events_inbox.c.event_id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def creation_seen(self, order_id: uuid.UUID) -> bool:
        statement = select(order_events_inbox.c.event_id).where(
            order_events_inbox.c.order_id == order_id,
            order_events_inbox.c.kind == OrderEventKind.CREATED.value,
        )
        return (await self._connection.execute(statement)).first() is not None

    async def release_held_cancellation(self, order_id: uuid.UUID) -> bool:
        statement = (
            update(order_events_inbox)
            .where(
                order_events_inbox.c.order_id == order_id,
                order_events_inbox.c.kind == OrderEventKind.CANCELLED.value,
                order_events_inbox.c.applied.is_(False),
            )
            .values(applied=True)
            .returning(order_events_inbox.c.event_id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def add_to_stats(self, user_id: uuid.UUID, *, orders: int, cents: int) -> bool:
        statement = (
            update(users)
            .where(users.c.id == user_id)
            .values(
                order_count=users.c.order_count + orders,
                total_spent_cents=users.c.total_spent_cents + cents,
                # Statistics are not a profile change: updated_at stays the user's own.
            )
            .returning(users.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None
