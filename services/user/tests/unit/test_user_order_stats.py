"""Order statistics from order events: once per event, the same in any arrival order."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

import pytest

from user_service.domain.order_events import OrderEventFacts, OrderEventKind, StatsOutcome
from user_service.service_layer.order_stats import apply_order_event


@dataclass
class FakeInbox:
    """The inbox and statistics as plain dictionaries, with the same rules as the tables."""

    users: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    events: dict[uuid.UUID, tuple[OrderEventFacts, bool]] = field(default_factory=dict)

    async def remember(self, event: OrderEventFacts, *, applied: bool) -> bool:
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = (event, applied)
        return True

    async def creation_seen(self, order_id: uuid.UUID) -> bool:
        return any(
            e.order_id == order_id and e.kind is OrderEventKind.CREATED
            for e, _ in self.events.values()
        )

    async def release_held_cancellation(self, order_id: uuid.UUID) -> bool:
        for event_id, (event, applied) in self.events.items():
            if (
                event.order_id == order_id
                and event.kind is OrderEventKind.CANCELLED
                and not applied
            ):
                self.events[event_id] = (event, True)
                return True
        return False

    async def add_to_stats(self, user_id: uuid.UUID, *, orders: int, cents: int) -> bool:
        if user_id not in self.users:
            return False
        count, spent = self.users[user_id]
        assert count + orders >= 0
        assert spent + cents >= 0, "statistics must never go negative (a CHECK in the table)"
        self.users[user_id] = [count + orders, spent + cents]
        return True


USER = uuid.uuid4()


def event(kind: OrderEventKind, order_id: uuid.UUID, cents: int) -> OrderEventFacts:
    return OrderEventFacts(uuid.uuid4(), order_id, USER, kind, cents)


async def apply_all(inbox: FakeInbox, events: list[OrderEventFacts]) -> list[StatsOutcome]:
    return [await apply_order_event(inbox=inbox, event=e) for e in events]


async def test_a_created_order_counts_once_however_often_it_arrives() -> None:
    inbox = FakeInbox(users={USER: [0, 0]})
    created = event(OrderEventKind.CREATED, uuid.uuid4(), 1990)
    outcomes = await apply_all(inbox, [created, created, created])
    assert outcomes == [StatsOutcome.APPLIED, StatsOutcome.DUPLICATE, StatsOutcome.DUPLICATE]
    assert inbox.users[USER] == [1, 1990]


async def test_a_cancellation_undoes_its_order() -> None:
    inbox = FakeInbox(users={USER: [0, 0]})
    order = uuid.uuid4()
    await apply_all(
        inbox,
        [
            event(OrderEventKind.CREATED, order, 500),
            event(OrderEventKind.CREATED, uuid.uuid4(), 700),
            event(OrderEventKind.CANCELLED, order, 500),
        ],
    )
    assert inbox.users[USER] == [1, 700]


@pytest.mark.parametrize("permutation", list(itertools.permutations(range(4))))
async def test_every_arrival_order_with_duplicates_gives_the_same_statistics(
    permutation: tuple[int, ...],
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    created_1 = event(OrderEventKind.CREATED, first, 1000)
    cancelled_1 = event(OrderEventKind.CANCELLED, first, 1000)
    created_2 = event(OrderEventKind.CREATED, second, 250)
    cancelled_1_again = cancelled_1  # a re-delivery
    events = [created_1, cancelled_1, created_2, cancelled_1_again]
    inbox = FakeInbox(users={USER: [0, 0]})
    await apply_all(inbox, [events[i] for i in permutation])
    assert inbox.users[USER] == [1, 250]


async def test_a_cancellation_before_its_creation_is_held() -> None:
    inbox = FakeInbox(users={USER: [0, 0]})
    order = uuid.uuid4()
    outcomes = await apply_all(
        inbox,
        [event(OrderEventKind.CANCELLED, order, 300), event(OrderEventKind.CREATED, order, 300)],
    )
    assert outcomes == [StatsOutcome.HELD, StatsOutcome.APPLIED]
    assert inbox.users[USER] == [0, 0]


async def test_an_event_for_an_unknown_user_is_recorded_and_changes_nothing() -> None:
    inbox = FakeInbox()
    created = event(OrderEventKind.CREATED, uuid.uuid4(), 100)
    assert await apply_all(inbox, [created, created]) == [
        StatsOutcome.UNKNOWN_USER,
        StatsOutcome.DUPLICATE,
    ]
