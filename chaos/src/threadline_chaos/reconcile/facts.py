"""What reconciliation reads from each side, as plain values the comparison works on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class OrderRow:
    """An order as the order service's database holds it."""

    order_id: uuid.UUID
    user_id: uuid.UUID
    cancelled: bool
    total_minor: int


@dataclass(frozen=True)
class TopicEvent:
    """One orders.v1 record, decoded from the contract (not by the consumer's code)."""

    event_id: uuid.UUID
    order_id: uuid.UUID
    user_id: uuid.UUID
    kind: str  # "created" or "cancelled"
    total_minor: int


@dataclass(frozen=True)
class InboxRow:
    """One event the user service's consumer recorded in its inbox."""

    event_id: uuid.UUID
    order_id: uuid.UUID
    kind: str
    applied: bool  # False: a cancellation held until its order's creation arrives


@dataclass(frozen=True)
class UserStats:
    order_count: int
    total_spent_cents: int


@dataclass(frozen=True)
class OrderSide:
    """The order database at one moment: its orders and how many outbox rows wait."""

    orders: dict[uuid.UUID, OrderRow]
    unpublished_outbox_rows: int


@dataclass(frozen=True)
class UserSide:
    """The user database at one moment: the inbox and every user's statistics, read together."""

    inbox: dict[uuid.UUID, InboxRow]
    stats: dict[uuid.UUID, UserStats]


@dataclass(frozen=True)
class TopicSide:
    """Every record of orders.v1 (up to the end offsets when read) and the dead letters' count."""

    records: list[TopicEvent]
    undecodable_records: int
    dead_lettered_records: int
