"""`LoginThrottle` on Redis: fixed-window counters per email and per client.

The email is hashed into the key, so Redis never holds an address. When Redis does not
answer, logins are let through (argon2's cost still bounds guessing) and a counter
(`cache_requests_total{cache="login_throttle",result="error"}`) and a log line say so: a
cache outage must not lock every user out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from user_service.adapters.cache import CacheObserver
from user_service.domain.errors import RateLimitedError

_log = logging.getLogger(__name__)

THROTTLE_NAME = "login_throttle"


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window_seconds: int


class RedisLoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        per_email: Limit,
        per_client: Limit,
        observer: CacheObserver,
        key_prefix: str = "throttle:token:",
    ) -> None:
        self._redis = redis
        self._per_email = per_email
        self._per_client = per_client
        self._observer = observer
        self._key_prefix = key_prefix
        self._failing_open = False

    async def check(self, *, email: str, client: str) -> None:
        now = time.time()
        email_digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
        windows = [
            (f"email:{email_digest}", self._per_email),
            (f"client:{client}", self._per_client),
        ]
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for name, limit in windows:
                    key = f"{self._key_prefix}{name}:{int(now // limit.window_seconds)}"
                    pipe.incr(key)
                    pipe.expire(key, limit.window_seconds + 1)
                results = await pipe.execute()
        except RedisError as error:
            self._observer.error()
            if not self._failing_open:
                self._failing_open = True
                _log.warning(
                    "login throttle unavailable; token requests are not rate limited",
                    extra={"error.type": type(error).__name__},
                )
            return
        self._failing_open = False
        counts = results[::2]
        retry_after = 0
        for count, (_, limit) in zip(counts, windows, strict=True):
            if count > limit.attempts:
                window_end = (now // limit.window_seconds + 1) * limit.window_seconds
                retry_after = max(retry_after, math.ceil(window_end - now), 1)
        if retry_after:
            raise RateLimitedError(retry_after)
