"""What an order event tells the user service: a fact about one order of one user."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class OrderEventKind(enum.StrEnum):
    CREATED = "created"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class OrderEventFacts:
    """One orders.v1 event, reduced to what the order statistics need."""

    event_id: uuid.UUID
    order_id: uuid.UUID
    user_id: uuid.UUID
    kind: OrderEventKind
    total_cents: int


class StatsOutcome(enum.StrEnum):
    APPLIED = "applied"  # the user's statistics changed
    DUPLICATE = "duplicate"  # seen before (at-least-once delivery): nothing to do
    HELD = "held"  # a cancellation that arrived before its creation: applied with it
    UNKNOWN_USER = "unknown_user"  # no such user (deleted since): recorded, nothing to change
