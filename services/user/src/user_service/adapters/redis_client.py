"""The Redis client the cache and the login throttle share: bounded, fail fast, never retry.

Everything this service asks Redis has an answer without it (the database for reads, an
unthrottled attempt for logins), so a slow or absent Redis must cost a request a bounded wait,
not the seconds redis-py's default retries with backoff would add. The pool is bounded too: a
stampede of misses shares `max_connections` connections instead of opening one per request.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def create_redis(url: str, *, timeout_seconds: float, max_connections: int = 32) -> Redis:
    """A client whose every wait — for a pooled connection, a connect, a reply — is bounded."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), retries=0),
    )
    return Redis.from_pool(pool)
