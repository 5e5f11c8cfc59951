"""The Redis cache adapter against a real Redis: hits, negative caching, jitter, stampedes,
invalidation, and a Redis that does not answer."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from threadline_native.net import free_port
from user_service.adapters.cache import RedisUserCache
from user_service.adapters.redis_client import create_redis
from user_service.domain.users import User
from user_service.testing import CacheCounts

TTL, JITTER, NEGATIVE_TTL = 300.0, 0.1, 30.0


class CountingLoader:
    """Stands in for the database: returns `user` (or None) and counts the queries."""

    def __init__(self, user: User | None, delay: float = 0.0) -> None:
        self.user = user
        self.delay = delay
        self.calls = 0

    async def __call__(self) -> User | None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.user


def a_user() -> User:
    return User.register(email="ada@example.com", full_name="Ada", now=datetime.now(UTC))


def cache_on(redis: Redis, counts: CacheCounts) -> RedisUserCache:
    return RedisUserCache(
        redis,
        observer=counts,
        ttl_seconds=TTL,
        ttl_jitter_ratio=JITTER,
        negative_ttl_seconds=NEGATIVE_TTL,
        retry_after_seconds=0.2,
    )


@pytest_asyncio.fixture
async def redis(redis_db_url: str) -> AsyncIterator[Redis]:
    client = create_redis(redis_db_url, timeout_seconds=0.5)
    yield client
    await client.aclose()


async def test_a_loaded_user_is_served_from_redis_afterwards(redis: Redis) -> None:
    counts, user = CacheCounts(), a_user()
    cache, load = cache_on(redis, counts), CountingLoader(user)
    assert await cache.get_or_load(user.id, load) == user
    assert await cache.get_or_load(user.id, load) == user
    assert load.calls == 1
    assert (counts.misses, counts.hits) == (1, 1)
    assert await redis.exists(f"user:v1:{user.id}")


async def test_an_unknown_id_is_cached_as_missing_for_a_short_while(redis: Redis) -> None:
    counts, missing = CacheCounts(), uuid.uuid4()
    cache, load = cache_on(redis, counts), CountingLoader(None)
    assert await cache.get_or_load(missing, load) is None
    assert await cache.get_or_load(missing, load) is None
    assert load.calls == 1
    assert 0 < await redis.pttl(f"user:v1:{missing}") <= NEGATIVE_TTL * 1000


async def test_ttls_are_spread_so_entries_written_together_expire_apart(redis: Redis) -> None:
    cache = cache_on(redis, CacheCounts())
    users = [a_user() for _ in range(40)]
    for user in users:
        await cache.get_or_load(user.id, CountingLoader(user))
    ttls = [await redis.pttl(f"user:v1:{user.id}") for user in users]
    assert all(TTL * (1 - JITTER) * 1000 - 5000 <= ttl <= TTL * (1 + JITTER) * 1000 for ttl in ttls)
    assert len(set(ttls)) > 20


async def test_a_stampede_on_a_cold_key_makes_one_query(redis: Redis) -> None:
    user = a_user()
    counts = CacheCounts()
    cache, load = cache_on(redis, counts), CountingLoader(user, delay=0.05)
    results = await asyncio.gather(*(cache.get_or_load(user.id, load) for _ in range(100)))
    assert results == [user] * 100
    assert (load.calls, counts.errors) == (1, 0)


async def test_invalidation_makes_the_next_read_load_again(redis: Redis) -> None:
    user = a_user()
    cache, load = cache_on(redis, CacheCounts()), CountingLoader(user)
    await cache.get_or_load(user.id, load)
    await cache.invalidate(user.id)
    await cache.get_or_load(user.id, load)
    assert load.calls == 2


async def test_an_entry_it_cannot_read_is_a_miss_not_an_error(redis: Redis) -> None:
    user = a_user()
    await redis.set(f"user:v1:{user.id}", b'{"written by": "another version"}')
    counts = CacheCounts()
    assert await cache_on(redis, counts).get_or_load(user.id, CountingLoader(user)) == user
    assert (counts.misses, counts.errors) == (1, 0)


async def test_without_redis_reads_go_to_the_loader_and_say_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.monotonic()
    # Nothing listens on this port: every command fails at once.
    unreachable = create_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.25)
    counts, user = CacheCounts(), a_user()
    cache, load = cache_on(unreachable, counts), CountingLoader(user)
    with caplog.at_level(logging.WARNING, logger="user_service.adapters.cache"):
        for _ in range(5):
            assert await cache.get_or_load(user.id, load) == user
        await cache.invalidate(user.id)
    assert load.calls == 5
    assert counts.errors == 6  # five reads and one invalidation
    outage_lines = [r for r in caplog.records if "fall back to the database" in r.getMessage()]
    assert len(outage_lines) == 1
    # Failing fast: no retries with backoff stand between a read and the database.
    assert time.monotonic() - started < 2.0
    await unreachable.aclose()
