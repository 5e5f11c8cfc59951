"""The near cache over a real Redis, as two replicas see it: a change made through one reaches the
other's near cache over pub/sub long before the TTL; with Redis down, the TTL alone bounds how
long a near copy is served, reads still answer, and the news flows again once Redis is back."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from user_service.adapters.cache import RedisUserCache
from user_service.adapters.invalidations import InvalidationListener
from user_service.adapters.near_cache import NearUserCache
from user_service.adapters.redis_client import create_redis
from user_service.domain.users import User
from user_service.testing import CacheCounts


@dataclass
class Database:
    """The one source of truth both replicas load from; counts the queries."""

    rows: dict[uuid.UUID, User] = field(default_factory=dict)
    queries: int = 0

    def loader(self, user_id: uuid.UUID) -> Callable[[], Coroutine[Any, Any, User | None]]:
        async def load() -> User | None:
            self.queries += 1
            return self.rows.get(user_id)

        return load


@dataclass
class Replica:
    near: NearUserCache
    listener: InvalidationListener
    redis_counts: CacheCounts
    near_counts: CacheCounts

    async def read(self, database: Database, user_id: uuid.UUID) -> User | None:
        return await self.near.get_or_load(user_id, database.loader(user_id))


Start = Callable[..., Coroutine[Any, Any, Replica]]


@pytest_asyncio.fixture
async def start_replica() -> AsyncIterator[Start]:
    """`await start_replica(redis_url, near_ttl=...)`: the cache stack one service process
    builds (main.py), on a Redis client of its own."""
    async with AsyncExitStack() as stack:

        async def start(redis_url: str, *, near_ttl: float) -> Replica:
            redis = create_redis(redis_url, timeout_seconds=0.25)
            stack.push_async_callback(redis.aclose)
            redis_counts, near_counts = CacheCounts(), CacheCounts()
            tier = RedisUserCache(
                redis,
                observer=redis_counts,
                ttl_seconds=300,
                ttl_jitter_ratio=0.1,
                negative_ttl_seconds=30,
                retry_after_seconds=0.1,
            )
            near = NearUserCache(tier, observer=near_counts, ttl_seconds=near_ttl, max_entries=100)
            listener = InvalidationListener(
                redis, near, ttl_seconds=near_ttl, retry_after_seconds=0.1
            )
            await listener.start(wait_seconds=5)
            stack.push_async_callback(listener.stop)
            assert listener.subscribed
            return Replica(near, listener, redis_counts, near_counts)

        yield start


def a_user() -> User:
    return User.register(email="ada@example.com", full_name="Ada", now=datetime.now(UTC))


async def eventually(condition: Callable[[], Coroutine[Any, Any, bool]], seconds: float) -> float:
    """How long `condition` took to hold; fails after `seconds`."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await condition():
        if loop.time() - started > seconds:
            pytest.fail(f"not within {seconds} s")
        await asyncio.sleep(0.01)
    return loop.time() - started


async def test_a_change_through_one_replica_reaches_the_others_near_cache_long_before_its_ttl(
    redis_db_url: str, start_replica: Start
) -> None:
    database, user = Database(), a_user()
    database.rows[user.id] = user
    one = await start_replica(redis_db_url, near_ttl=60)
    two = await start_replica(redis_db_url, near_ttl=60)
    assert await one.read(database, user.id) == user
    assert await two.read(database, user.id) == user
    assert await two.read(database, user.id) == user
    assert two.near_counts.hits == 1  # served from memory, Redis not asked

    changed = user.changed(now=datetime.now(UTC), full_name="Ada L.")
    database.rows[user.id] = changed  # committed through replica one, which then invalidates
    await one.near.invalidate(user.id)
    assert await one.read(database, user.id) == changed  # read-your-writes, at once

    async def two_sees_the_change() -> bool:
        return await two.read(database, user.id) == changed

    assert await eventually(two_sees_the_change, seconds=2) < 2  # the TTL is 60 s


async def test_a_deleted_user_reads_as_missing_on_every_replica(
    redis_db_url: str, start_replica: Start
) -> None:
    database, user = Database(), a_user()
    database.rows[user.id] = user
    one = await start_replica(redis_db_url, near_ttl=60)
    two = await start_replica(redis_db_url, near_ttl=60)
    await two.read(database, user.id)
    del database.rows[user.id]
    await one.near.invalidate(user.id)

    async def two_sees_it_gone() -> bool:
        return await two.read(database, user.id) is None

    await eventually(two_sees_it_gone, seconds=2)


async def test_with_redis_down_near_copies_live_no_longer_than_their_ttl_and_reads_still_answer(
    private_redis: Any, start_replica: Start, caplog: pytest.LogCaptureFixture
) -> None:
    near_ttl = 0.5
    database, user = Database(), a_user()
    database.rows[user.id] = user
    replica = await start_replica(private_redis.url, near_ttl=near_ttl)
    await replica.read(database, user.id)

    with caplog.at_level(logging.INFO, logger="user_service.adapters"):
        private_redis.stop()

        async def listener_noticed() -> bool:
            return not replica.listener.subscribed

        await eventually(listener_noticed, seconds=5)
        # What was cached may be changed elsewhere unheard from now on: dropped at once.
        assert len(replica.near) == 0
        with pytest.raises(ConnectionError, match=r"stale for up to 0\.5 s"):
            await replica.listener.check()
        assert any("invalidations not received" in r.getMessage() for r in caplog.records)

        # Reads answer from the database, then from the near copy, for one TTL at most.
        queries = database.queries
        assert await replica.read(database, user.id) == user
        assert database.queries == queries + 1
        assert replica.redis_counts.errors >= 1
        assert await replica.read(database, user.id) == user
        assert database.queries == queries + 1
        changed = user.changed(now=datetime.now(UTC), full_name="Ada L.")
        database.rows[user.id] = changed  # changed through a replica that cannot announce it

        async def the_change_shows() -> bool:
            return await replica.read(database, user.id) == changed

        assert await eventually(the_change_shows, seconds=near_ttl + 1) <= near_ttl + 0.1

        private_redis.start()

        async def listening_again() -> bool:
            return replica.listener.subscribed

        await eventually(listening_again, seconds=5)
        assert any("received again" in r.getMessage() for r in caplog.records)

    # And news flows again: another replica's change reaches this one's near cache.
    other = await start_replica(private_redis.url, near_ttl=60)
    await replica.read(database, user.id)
    database.rows[user.id] = user.changed(now=datetime.now(UTC), full_name="Ada King")
    await other.near.invalidate(user.id)

    async def news_arrived() -> bool:
        return len(replica.near) == 0

    await eventually(news_arrived, seconds=2)
