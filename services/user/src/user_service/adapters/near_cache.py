"""`UserCache` tier in process memory, in front of another one (Redis): hot reads skip the network.

A Redis round trip through redis-py costs a read by id more CPU than everything else on its path
together (docs/benchmarks/user.md); a dict lookup costs next to nothing. The price is staleness,
and it is bounded:

* Every entry is served for at most `ttl_seconds` after the read that fetched it began, whatever
  else happens. That is the worst case: a change made on another replica while Redis cannot carry
  the news (down, partitioned) is seen here within `ttl_seconds`.
* Normally the news comes much sooner: `invalidate` drops the local copy at once (a replica reads
  its own writes) and the Redis tier publishes the change, which every replica's
  `InvalidationListener` applies on arrival (milliseconds).
* A fetch that was already under way when an invalidation arrived is served but not kept, so a
  copy read before a change can never be stored after its invalidation.

Misses (`None`, the id does not exist) are kept the same way, so an unknown id costs one lookup
per `ttl_seconds` at most. Entries are immutable `User` values shared between requests.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from user_service.adapters.cache import CacheObserver
from user_service.domain.users import User
from user_service.service_layer.ports import UserCache, UserLoader

NEAR_CACHE_NAME = "users_near"


class NearUserCache:
    """At most `max_entries` users for at most `ttl_seconds` each, then `backing` is asked."""

    def __init__(
        self,
        backing: UserCache,
        *,
        observer: CacheObserver,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0 or max_entries < 1:
            raise ValueError("a near cache needs a positive TTL and room for one entry")
        self._backing = backing
        self._observer = observer
        self._ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        # One TTL for all, so insertion order is (nearly) expiry order: eviction and purging of
        # expired entries both work from the front; a straggler further in is dropped when read.
        # An OrderedDict, because taking from the front of a plain dict again and again costs
        # a scan over the slots already taken.
        self._entries: OrderedDict[uuid.UUID, tuple[User | None, float]] = OrderedDict()
        # Counts invalidations; a fetch that saw it change while under way is not kept.
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_load(self, user_id: uuid.UUID, load: UserLoader) -> User | None:
        entry = self._entries.get(user_id)
        if entry is not None:
            user, expires_at = entry
            if self._clock() < expires_at:
                self._observer.hit()
                return user
            del self._entries[user_id]
        self._observer.miss()
        generation, started = self._generation, self._clock()
        user = await self._backing.get_or_load(user_id, load)
        if generation == self._generation:
            self._keep(user_id, user, expires_at=started + self._ttl_seconds)
        return user

    async def invalidate(self, user_id: uuid.UUID) -> None:
        self.forget(user_id)
        await self._backing.invalidate(user_id)
        # Again: a local read that went to Redis between the two steps above may have kept the
        # old copy.
        self.forget(user_id)

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop one user (another replica changed them)."""
        self._generation += 1
        self._entries.pop(user_id, None)

    def clear(self) -> None:
        """Drop everything (news of changes may have been missed)."""
        self._generation += 1
        self._entries.clear()

    def _keep(self, user_id: uuid.UUID, user: User | None, *, expires_at: float) -> None:
        entries = self._entries
        entries.pop(user_id, None)
        now = self._clock()
        while entries and (
            len(entries) >= self._max_entries or next(iter(entries.values()))[1] <= now
        ):
            entries.popitem(last=False)
        entries[user_id] = (user, expires_at)
