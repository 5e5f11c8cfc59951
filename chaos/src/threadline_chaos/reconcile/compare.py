"""The comparison itself: three records of the same orders, and every way they can disagree.

Each problem is one sentence with the count and the first few ids, so a failed drill says what
was lost, duplicated or miscounted without anyone opening a database.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable

from threadline_chaos.reconcile.facts import OrderSide, TopicSide, UserSide, UserStats

_SHOWN_IDS = 5
_SHOWN_USERS = 5


def compare(order_side: OrderSide, topic: TopicSide, user_side: UserSide) -> list[str]:
    """Every inconsistency between the orders database, orders.v1 and the user statistics."""
    return [
        *_outbox_problems(order_side),
        *_topic_problems(order_side, topic),
        *_inbox_problems(topic, user_side),
        *_stats_problems(order_side, topic, user_side),
    ]


def _outbox_problems(order_side: OrderSide) -> list[str]:
    if order_side.unpublished_outbox_rows:
        return [f"{order_side.unpublished_outbox_rows} outbox rows were left unpublished"]
    return []


def _topic_problems(order_side: OrderSide, topic: TopicSide) -> list[str]:
    creations = _event_ids_by_order(topic, "created")
    cancellations = _event_ids_by_order(topic, "cancelled")
    orders = order_side.orders
    problems: list[str] = []
    if lost := [o for o in orders if o not in creations]:
        problems.append(
            f"{len(lost)} orders have no order-created event on orders.v1: {_ids(lost)}"
        )
    if strangers := [o for o in creations if o not in orders]:
        problems.append(
            f"{len(strangers)} order-created events on orders.v1 name orders the orders database "
            f"does not hold: {_ids(strangers)}"
        )
    if unannounced := [o for o, row in orders.items() if row.cancelled and o not in cancellations]:
        problems.append(
            f"{len(unannounced)} cancelled orders have no order-cancelled event on orders.v1: "
            f"{_ids(unannounced)}"
        )
    if phantom := [o for o in cancellations if o in orders and not orders[o].cancelled]:
        problems.append(
            f"{len(phantom)} orders have an order-cancelled event but are not cancelled: "
            f"{_ids(phantom)}"
        )
    for kind, by_order in (("created", creations), ("cancelled", cancellations)):
        if repeated := [o for o, events in by_order.items() if len(events) > 1]:
            problems.append(
                f"{len(repeated)} orders have more than one order-{kind} event (different event "
                f"ids) on orders.v1: {_ids(repeated)}"
            )
    if topic.undecodable_records:
        problems.append(f"{topic.undecodable_records} records on orders.v1 are not order events")
    return problems


def _inbox_problems(topic: TopicSide, user_side: UserSide) -> list[str]:
    published = {event.event_id for event in topic.records}
    inbox = user_side.inbox
    problems: list[str] = []
    if unseen := [e for e in published if e not in inbox]:
        dead = (
            f" ({topic.dead_lettered_records} records dead-lettered)"
            if topic.dead_lettered_records
            else ""
        )
        problems.append(
            f"{len(unseen)} events on orders.v1 never reached the user service's inbox{dead}: "
            f"{_ids(unseen)}"
        )
    if unknown := [e for e in inbox if e not in published]:
        problems.append(
            f"{len(unknown)} events in the user service's inbox are not on orders.v1: "
            f"{_ids(unknown)}"
        )
    applied_creations = Counter(
        row.order_id for row in inbox.values() if row.kind == "created" and row.applied
    )
    if twice := [o for o, times in applied_creations.items() if times > 1]:
        problems.append(
            f"{len(twice)} orders were applied to the statistics more than once "
            f"(several creation events in the inbox): {_ids(twice)}"
        )
    if held := [row.order_id for row in inbox.values() if not row.applied]:
        problems.append(
            f"{len(held)} cancellations are still held in the inbox, waiting for a creation "
            f"that never came: {_ids(held)}"
        )
    return problems


def _stats_problems(order_side: OrderSide, topic: TopicSide, user_side: UserSide) -> list[str]:
    """Per user: statistics vs the net of the events the inbox applied vs the orders database."""
    stats = user_side.stats
    from_inbox = _inbox_net_by_user(topic, user_side)
    from_orders: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for row in order_side.orders.values():
        if not row.cancelled:
            from_orders[row.user_id][0] += 1
            from_orders[row.user_id][1] += row.total_minor
    problems: list[str] = []
    double: list[str] = []
    differ: list[str] = []
    behind: list[str] = []
    for user in sorted(stats.keys() | from_inbox.keys() | from_orders.keys()):
        have = stats.get(user)
        if have is None:
            continue  # deleted accounts: nothing left to count them in (counted in notes)
        net = UserStats(*from_inbox.get(user, (0, 0)))
        live = UserStats(*from_orders.get(user, (0, 0)))
        if have.order_count > net.order_count:
            double.append(
                f"user {user} counts {have.order_count} orders, its applied events "
                f"{net.order_count}"
            )
        elif have != net:
            differ.append(f"user {user}: statistics {_stats(have)}, applied events {_stats(net)}")
        if net != live:
            behind.append(
                f"user {user}: applied events {_stats(net)}, orders database {_stats(live)}"
            )
    for what, found in (
        ("statistics count more orders than the inbox applied (an event applied twice)", double),
        ("statistics differ from the events the inbox applied", differ),
        ("applied events differ from their live orders in the orders database", behind),
    ):
        if found:
            problems.append(f"{len(found)} users' {what}: {_several(found)}")
    return problems


def _inbox_net_by_user(topic: TopicSide, user_side: UserSide) -> dict[uuid.UUID, tuple[int, int]]:
    """Orders and cents per user that the applied inbox events add up to (net of cancellations)."""
    published = {event.event_id: event for event in topic.records}
    net: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for row in user_side.inbox.values():
        event = published.get(row.event_id)
        if event is None or not row.applied:
            continue  # reported by _inbox_problems; no user or amount to attribute
        sign = 1 if row.kind == "created" else -1
        net[event.user_id][0] += sign
        net[event.user_id][1] += sign * event.total_minor
    return {user: (orders, cents) for user, (orders, cents) in net.items()}


def unknown_users(order_side: OrderSide, user_side: UserSide) -> set[uuid.UUID]:
    """Users with orders whom the user database does not hold (their accounts were deleted)."""
    return {row.user_id for row in order_side.orders.values()} - user_side.stats.keys()


def _event_ids_by_order(topic: TopicSide, kind: str) -> dict[uuid.UUID, set[uuid.UUID]]:
    by_order: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for event in topic.records:
        if event.kind == kind:
            by_order[event.order_id].add(event.event_id)
    return by_order


def _stats(stats: UserStats) -> str:
    return f"{stats.order_count} orders / {stats.total_spent_cents} cents"


def _ids(ids: Iterable[uuid.UUID]) -> str:
    shown = sorted(str(i) for i in ids)
    more = len(shown) - _SHOWN_IDS
    return ", ".join(shown[:_SHOWN_IDS]) + (f" (+{more} more)" if more > 0 else "")


def _several(lines: list[str]) -> str:
    more = len(lines) - _SHOWN_USERS
    return "; ".join(lines[:_SHOWN_USERS]) + (f" (+{more} more)" if more > 0 else "")
