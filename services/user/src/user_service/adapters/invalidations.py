"""News of changes from other replicas, for the near cache: a Redis pub/sub subscription.

The Redis tier publishes the id of every user it invalidates (cache.py); each replica's listener
drops that user from its near cache. Pub/sub delivers at most once and only to connected
subscribers, so whenever the subscription is (re)established the whole near cache is dropped:
whatever was published while this replica was not listening is then covered. While Redis does
not answer, the near cache's TTL alone bounds how stale a read can be; a log line says so when
it happens and another when the subscription is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Protocol

from redis.asyncio import Redis

from user_service.adapters.cache import invalidations_channel

_log = logging.getLogger(__name__)


class Forgetful(Protocol):
    def forget(self, user_id: uuid.UUID) -> None: ...

    def clear(self) -> None: ...


class InvalidationListener:
    """Applies published invalidations to `near` until stopped; resubscribes after failures."""

    def __init__(
        self,
        redis: Redis,
        near: Forgetful,
        *,
        ttl_seconds: float,
        retry_after_seconds: float,
    ) -> None:
        self._redis = redis
        self._near = near
        self._ttl_seconds = ttl_seconds
        self._retry_after_seconds = retry_after_seconds
        self._channel = invalidations_channel(redis)
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    async def wait_subscribed(self) -> None:
        """Return once the subscription is established (tests, start-up)."""
        await self._subscribed.wait()

    async def check(self) -> None:
        """Health check: raises while invalidations from other replicas are not received."""
        if not self.subscribed:
            raise ConnectionError(
                f"not subscribed to cache invalidations; near-cache reads may be stale for up to "
                f"{self._ttl_seconds:g} s"
            )

    async def start(self, *, wait_seconds: float) -> None:
        """Start listening; wait up to `wait_seconds` for the subscription, never fail for it."""
        self._task = asyncio.create_task(self._run(), name="cache-invalidations")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds):
                await self._subscribed.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        outage = False
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    # Whatever was published before this moment was not heard: start empty.
                    self._near.clear()
                    self._subscribed.set()
                    if outage:
                        outage = False
                        _log.info("cache invalidations received again")
                    async for message in pubsub.listen():
                        self._apply(message)
            except Exception as error:  # whatever broke the subscription, make a new one
                self._subscribed.clear()
                # Drop what may be stale now rather than when Redis is back: changes made
                # elsewhere from here on are not heard.
                self._near.clear()
                if not outage:
                    outage = True
                    _log.warning(
                        "cache invalidations not received; near-cache entries now expire "
                        "with their TTL alone",
                        extra={
                            "error.type": type(error).__name__,
                            "cache.near_ttl_seconds": self._ttl_seconds,
                        },
                    )
            await asyncio.sleep(self._retry_after_seconds)

    def _apply(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        try:
            user_id = uuid.UUID(bytes(message["data"]).decode())
        except (ValueError, TypeError, KeyError):
            # Not a user id (another version's format?): forgetting everything is safe.
            self._near.clear()
            return
        self._near.forget(user_id)
