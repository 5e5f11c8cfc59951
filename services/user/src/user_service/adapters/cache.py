"""`UserCache` on Redis: cache-aside by id, single-flight, jittered TTLs, negative caching.

Every invalidation is also published (the user id) on the channel `invalidations_channel` names,
in the same round trip as the delete, for the near caches of all replicas (near_cache.py,
invalidations.py).

Redis is an accelerator, never a dependency of correctness: when it does not answer, reads go
to PostgreSQL (a `cache_requests_total{result="error"}` count and one log line per outage say
so) and the cache is retried after a short pause instead of on every request.

Known window, accepted: a read that loaded a row just before a concurrent update committed can
write the old version back after the update's invalidation; it lives until its TTL at most.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Protocol

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from user_service.adapters.single_flight import SingleFlight
from user_service.adapters.user_codec import MISSING, decode_user, encode_user
from user_service.domain.users import User
from user_service.service_layer.ports import UserLoader

_log = logging.getLogger(__name__)

CACHE_NAME = "users"


def invalidations_channel(redis: Redis) -> str:
    """Where changes to the users cached in `redis`'s database are announced.

    Keys live in one logical database, channels are server-wide: the database number in the name
    keeps two deployments (or test runs) sharing a server from hearing each other.
    """
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"user:v1:invalidated:db{database}"


class CacheObserver(Protocol):
    """Counts lookups by outcome."""

    def hit(self) -> None: ...

    def miss(self) -> None: ...

    def error(self) -> None: ...


class CacheCounters:
    """`CacheObserver` on the library's `cache_requests_total{cache, result}` counter.

    The three children are resolved once: `labels()` takes a lock and validates on every call,
    which on the cache-hit path costs more than the rest of the bookkeeping together.
    """

    def __init__(self, cache_requests: Counter, *, cache: str) -> None:
        self.hit = cache_requests.labels(cache, "hit").inc
        self.miss = cache_requests.labels(cache, "miss").inc
        self.error = cache_requests.labels(cache, "error").inc


class RedisUserCache:
    def __init__(
        self,
        redis: Redis,
        *,
        observer: CacheObserver,
        ttl_seconds: float,
        ttl_jitter_ratio: float,
        negative_ttl_seconds: float,
        retry_after_seconds: float,
        key_prefix: str = "user:v1:",
    ) -> None:
        self._redis = redis
        self._observer = observer
        self._ttl_seconds = ttl_seconds
        self._ttl_jitter_ratio = ttl_jitter_ratio
        self._negative_ttl_seconds = negative_ttl_seconds
        self._retry_after_seconds = retry_after_seconds
        self._key_prefix = key_prefix
        self._invalidations_channel = invalidations_channel(redis)
        self._flights: SingleFlight[uuid.UUID, User | None] = SingleFlight()
        self._down_until = 0.0
        self._down = False

    async def get_or_load(self, user_id: uuid.UUID, load: UserLoader) -> User | None:
        key = self._key(user_id)
        if self._usable():
            try:
                raw = await self._redis.get(key)
            except RedisError as error:
                self._mark_down(error)
            else:
                self._mark_up()
                if raw is not None:
                    user = self._decode(raw)
                    if user is not None or raw == MISSING:
                        self._observer.hit()
                        return user
                self._observer.miss()
                return await self._flights.run(user_id, lambda: self._load_and_fill(key, load))
        self._observer.error()
        return await self._flights.run(user_id, load)

    async def invalidate(self, user_id: uuid.UUID) -> None:
        try:
            # Delete first: a replica that hears the news and reads again finds no old copy.
            async with self._redis.pipeline(transaction=False) as pipeline:
                pipeline.delete(self._key(user_id))
                pipeline.publish(self._invalidations_channel, str(user_id))
                await pipeline.execute()
        except RedisError as error:
            # The entry may outlive the change until its TTL (other replicas' near copies until
            # theirs); say so rather than fail a write that PostgreSQL has already committed.
            self._observer.error()
            _log.warning(
                "cache invalidation failed; the entry expires with its TTL",
                extra={"user.id": str(user_id), "error.type": type(error).__name__},
            )

    async def _load_and_fill(self, key: str, load: UserLoader) -> User | None:
        user = await load()
        if user is None:
            value, ttl = MISSING, self._negative_ttl_seconds
        else:
            value, ttl = encode_user(user), self._jittered(self._ttl_seconds)
        try:
            await self._redis.set(key, value, px=max(int(ttl * 1000), 1))
        except RedisError as error:
            self._mark_down(error)
        return user

    def _jittered(self, ttl: float) -> float:
        # Entries written together (a warm-up, a burst) must not all expire together.
        spread = self._ttl_jitter_ratio * ttl
        return ttl + random.uniform(-spread, spread)  # noqa: S311 - spreading, not secrecy

    def _decode(self, raw: bytes | str) -> User | None:
        if isinstance(raw, str):  # only with decode_responses=True, which we do not set
            raw = raw.encode()
        if raw == MISSING:
            return None
        try:
            return decode_user(raw)
        except (ValueError, TypeError):
            # An entry written by another version of the service: treat it as a miss.
            _log.warning("unreadable cache entry ignored")
            return None

    def _key(self, user_id: uuid.UUID) -> str:
        return f"{self._key_prefix}{user_id}"

    def _usable(self) -> bool:
        return not self._down or time.monotonic() >= self._down_until

    def _mark_down(self, error: Exception) -> None:
        self._down_until = time.monotonic() + self._retry_after_seconds
        if not self._down:
            self._down = True
            _log.warning(
                "cache unavailable; reads fall back to the database",
                extra={"cache": CACHE_NAME, "error.type": type(error).__name__},
            )

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            _log.info("cache available again", extra={"cache": CACHE_NAME})
