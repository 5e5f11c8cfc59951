"""Is the caller's account active? Asked of the user service over HTTP, defensively.

* Deadline: the whole check, retries included, fits in the time the caller gave us (the edge
  derives it from the gRPC deadline); each attempt has its own shorter timeout.
* Retries (stamina: exponential backoff with jitter) only for failures a retry can fix:
  connection errors, timeouts, 429, 502, 503 and 504. A 404 or 403 is an answer, not a fault.
* A circuit breaker counts calls that failed after their retries; while it is open the
  check fails at once with `DependencyUnavailableError` instead of spending the caller's deadline.
* The caller's own token is forwarded: the user service decides what the caller may read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import httpx
import stamina

from order_service.adapters.circuit_breaker import CircuitBreaker
from order_service.adapters.metrics import OrderMetrics
from order_service.domain.access import Caller
from order_service.domain.errors import (
    DependencyUnavailableError,
    UnauthenticatedError,
    UserNotActiveError,
)

PEER: Final = "user-service"
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})
# Below this, an attempt cannot plausibly finish; better to say so than to start it.
_MIN_ATTEMPT_SECONDS: Final = 0.01


class _RetryableStatusError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"user service answered {status}")
        self.status = status


class _BudgetSpentError(Exception):
    pass


def _retry_reason(error: Exception) -> str | None:
    if isinstance(error, _RetryableStatusError):
        return f"status_{error.status}"
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.TransportError):
        return "connect" if isinstance(error, httpx.ConnectError) else "transport"
    return None


class HttpUserDirectory:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        breaker: CircuitBreaker,
        metrics: OrderMetrics,
        attempts: int,
        attempt_timeout_seconds: float,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
        backoff_jitter_seconds: float,
    ) -> None:
        self._client = client
        self._breaker = breaker
        self._metrics = metrics
        self._attempts = attempts
        self._attempt_timeout = attempt_timeout_seconds
        self._backoff = (backoff_initial_seconds, backoff_max_seconds, backoff_jitter_seconds)

    async def ensure_active(self, caller: Caller, *, timeout_seconds: float) -> None:
        if not self._breaker.allow():
            self._metrics.breaker_rejections.labels(self._breaker.name).inc()
            raise DependencyUnavailableError(
                PEER,
                "circuit open after repeated failures",
                retry_after_seconds=max(self._breaker.retry_after_seconds, 0.1),
            )
        try:
            status = await self._get_status(caller, timeout_seconds)
        except _BudgetSpentError as spent:
            if spent.__cause__ is None:
                # The deadline was gone before we asked: nothing learnt about the user service.
                self._breaker.record_neutral()
            else:
                self._breaker.record_failure()
            raise DependencyUnavailableError(PEER, "no answer within the deadline") from None
        except (httpx.TransportError, _RetryableStatusError) as error:
            self._breaker.record_failure()
            raise DependencyUnavailableError(PEER, _retry_reason(error) or "error") from None
        if status >= 500:
            self._breaker.record_failure()
            raise DependencyUnavailableError(PEER, f"answered {status}")
        self._breaker.record_success()
        if status == 401:
            raise UnauthenticatedError("the user service refused the access token")
        if status in (403, 404):
            raise UserNotActiveError("the account does not exist or may not be read")

    async def _get_status(self, caller: Caller, timeout_seconds: float) -> int:
        deadline = time.monotonic() + timeout_seconds
        initial, maximum, jitter = self._backoff
        url = f"/v1/users/{caller.user_id}"
        headers = {"authorization": f"Bearer {caller.token}"}
        last_error: Exception | None = None
        async for attempt in stamina.retry_context(
            on=lambda error: _retry_reason(error) is not None,
            attempts=self._attempts,
            timeout=timeout_seconds,
            wait_initial=initial,
            wait_max=maximum,
            wait_jitter=jitter,
        ):
            with attempt:
                left = deadline - time.monotonic()
                if left < _MIN_ATTEMPT_SECONDS:
                    # No time for another try: report the failure we saw, if any.
                    raise _BudgetSpentError from last_error
                if last_error is not None:
                    reason = _retry_reason(last_error) or "error"
                    self._metrics.client_retries.labels(PEER, reason).inc()
                attempt_timeout = min(left, self._attempt_timeout)
                try:
                    # httpx times each phase (connect, read...); this bounds the attempt.
                    async with asyncio.timeout(attempt_timeout):
                        response = await self._client.get(
                            url, headers=headers, timeout=attempt_timeout
                        )
                except TimeoutError as error:
                    last_error = httpx.TimeoutException("the attempt ran out of time")
                    raise last_error from error
                except Exception as error:
                    last_error = error
                    raise
                if response.status_code in RETRYABLE_STATUSES:
                    last_error = _RetryableStatusError(response.status_code)
                    raise last_error
                if response.status_code == 200 and not _is_active(response):
                    return 404
                return response.status_code
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


def _is_active(response: httpx.Response) -> bool:
    try:
        return response.json().get("is_active") is True
    except ValueError:
        return False
