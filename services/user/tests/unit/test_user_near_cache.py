"""The near cache's own rules, over a fake backing cache and a fake clock: how long an entry is
served, what an invalidation drops, what a racing fetch may keep, how big it may grow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from user_service.adapters.near_cache import NearUserCache
from user_service.domain.users import User
from user_service.service_layer.ports import UserLoader
from user_service.testing import CacheCounts, FakeCache

TTL = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backing(FakeCache):
    """The Redis tier's stand-in: counts the lookups that reach it; can hold one up."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.gate: asyncio.Event | None = None

    async def get_or_load(self, user_id: uuid.UUID, load: UserLoader) -> User | None:
        self.lookups += 1
        if self.gate is not None:
            await self.gate.wait()
        return await super().get_or_load(user_id, load)


def a_user(name: str = "Ada") -> User:
    return User.register(email=f"{name.lower()}@example.com", full_name=name, now=datetime.now(UTC))


def loader(user: User | None) -> UserLoader:
    async def load() -> User | None:
        return user

    return load


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backing() -> Backing:
    return Backing()


def near_over(
    backing: Backing, clock: Clock, counts: CacheCounts, max_entries: int = 100
) -> NearUserCache:
    return NearUserCache(
        backing, observer=counts, ttl_seconds=TTL, max_entries=max_entries, clock=clock
    )


async def test_an_entry_is_served_from_memory_until_its_ttl_then_asked_for_again(
    backing: Backing, clock: Clock
) -> None:
    counts, user = CacheCounts(), a_user()
    near = near_over(backing, clock, counts)
    assert await near.get_or_load(user.id, loader(user)) == user
    clock.now += TTL - 0.01
    assert await near.get_or_load(user.id, loader(user)) == user
    assert (backing.lookups, counts.hits, counts.misses) == (1, 1, 1)
    clock.now += 0.01
    assert await near.get_or_load(user.id, loader(user)) == user
    assert (backing.lookups, counts.hits, counts.misses) == (2, 1, 2)


async def test_the_ttl_counts_from_when_the_fetch_began_not_when_it_ended(
    backing: Backing, clock: Clock
) -> None:
    user = a_user()
    near = near_over(backing, clock, CacheCounts())
    backing.gate = asyncio.Event()
    fetch = asyncio.create_task(near.get_or_load(user.id, loader(user)))
    await asyncio.sleep(0)
    clock.now += 1.5  # a slow Redis
    backing.gate.set()
    await fetch
    clock.now += TTL - 1.5
    await near.get_or_load(user.id, loader(user))
    assert backing.lookups == 2


async def test_an_unknown_id_is_remembered_as_missing_too(backing: Backing, clock: Clock) -> None:
    near, missing = near_over(backing, clock, CacheCounts()), uuid.uuid4()
    assert await near.get_or_load(missing, loader(None)) is None
    assert await near.get_or_load(missing, loader(None)) is None
    assert backing.lookups == 1


async def test_invalidate_drops_the_local_copy_and_invalidates_the_tier_behind(
    backing: Backing, clock: Clock
) -> None:
    user = a_user()
    near = near_over(backing, clock, CacheCounts())
    await near.get_or_load(user.id, loader(user))
    await near.invalidate(user.id)
    assert backing.invalidated == [user.id]
    changed = user.changed(now=datetime.now(UTC), full_name="Ada L.")
    assert await near.get_or_load(user.id, loader(changed)) == changed


async def test_news_from_another_replica_drops_one_user_or_all(
    backing: Backing, clock: Clock
) -> None:
    ada, bob = a_user("Ada"), a_user("Bob")
    near = near_over(backing, clock, CacheCounts())
    await near.get_or_load(ada.id, loader(ada))
    await near.get_or_load(bob.id, loader(bob))
    near.forget(ada.id)
    assert len(near) == 1
    near.clear()
    assert len(near) == 0
    assert backing.invalidated == []  # news is applied locally, not passed on


async def test_a_fetch_under_way_when_news_arrives_is_served_but_not_kept(
    backing: Backing, clock: Clock
) -> None:
    user = a_user()
    near = near_over(backing, clock, CacheCounts())
    backing.gate = asyncio.Event()
    fetch = asyncio.create_task(near.get_or_load(user.id, loader(user)))
    await asyncio.sleep(0)
    near.forget(user.id)  # the change is published while the old copy is on its way
    backing.gate.set()
    assert await fetch == user
    assert len(near) == 0


async def test_it_never_holds_more_than_max_entries_and_drops_the_oldest_first(
    backing: Backing, clock: Clock
) -> None:
    near = near_over(backing, clock, CacheCounts(), max_entries=3)
    users = [a_user(f"User{index}") for index in range(5)]
    for user in users:
        await near.get_or_load(user.id, loader(user))
        clock.now += 0.01
    assert len(near) == 3
    lookups = backing.lookups
    for user in users[2:]:
        await near.get_or_load(user.id, loader(user))
    assert backing.lookups == lookups
    await near.get_or_load(users[0].id, loader(users[0]))
    assert backing.lookups == lookups + 1


async def test_expired_entries_are_purged_as_new_ones_arrive(
    backing: Backing, clock: Clock
) -> None:
    near = near_over(backing, clock, CacheCounts())
    for index in range(10):
        user = a_user(f"User{index}")
        await near.get_or_load(user.id, loader(user))
    clock.now += TTL
    fresh = a_user("Fresh")
    await near.get_or_load(fresh.id, loader(fresh))
    assert len(near) == 1


def test_a_near_cache_needs_a_positive_ttl_and_room(backing: Backing) -> None:
    with pytest.raises(ValueError, match="positive TTL"):
        NearUserCache(backing, observer=CacheCounts(), ttl_seconds=0, max_entries=10)
    with pytest.raises(ValueError, match="positive TTL"):
        NearUserCache(backing, observer=CacheCounts(), ttl_seconds=1, max_entries=0)
