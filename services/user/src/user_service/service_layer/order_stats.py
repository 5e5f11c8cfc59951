"""Order statistics from order events: each event applied exactly once, in any order.

Delivery is at least once and, across relays, not strictly ordered; so every event is first
remembered in an inbox by its id (a second delivery finds it there and changes nothing), and
a cancellation that arrives before its order's creation is held, then applied together with
the creation. Either order of arrival gives the same statistics, which never go negative.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from user_service.domain.order_events import OrderEventFacts, OrderEventKind, StatsOutcome


class OrderEventInbox(Protocol):
    """The inbox of applied events and the statistics, in one transaction."""

    async def remember(self, event: OrderEventFacts, *, applied: bool) -> bool:
        """Record the event; False when its id was recorded before."""
        ...

    async def creation_seen(self, order_id: uuid.UUID) -> bool: ...

    async def release_held_cancellation(self, order_id: uuid.UUID) -> bool:
        """Mark a held cancellation of the order applied; True when there was one."""
        ...

    async def add_to_stats(self, user_id: uuid.UUID, *, orders: int, cents: int) -> bool:
        """Change the user's statistics; False when there is no such user."""
        ...


async def apply_order_event(*, inbox: OrderEventInbox, event: OrderEventFacts) -> StatsOutcome:
    """Apply one order event to its user's statistics, once, whatever the arrival order."""
    if event.kind is OrderEventKind.CANCELLED and not await inbox.creation_seen(event.order_id):
        if not await inbox.remember(event, applied=False):
            return StatsOutcome.DUPLICATE
        return StatsOutcome.HELD
    if not await inbox.remember(event, applied=True):
        return StatsOutcome.DUPLICATE
    if event.kind is OrderEventKind.CREATED:
        if await inbox.release_held_cancellation(event.order_id):
            # Created and already cancelled: the two cancel out.
            return StatsOutcome.APPLIED
        changed = await inbox.add_to_stats(event.user_id, orders=1, cents=event.total_cents)
    else:
        changed = await inbox.add_to_stats(event.user_id, orders=-1, cents=-event.total_cents)
    return StatsOutcome.APPLIED if changed else StatsOutcome.UNKNOWN_USER
