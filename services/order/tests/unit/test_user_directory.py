"""The account check: retries only what a retry can fix, within the deadline, behind a breaker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from observability import Metrics
from order_service.adapters.metrics import OrderMetrics
from order_service.adapters.user_directory import HttpUserDirectory
from order_service.domain.access import Caller
from order_service.domain.errors import (
    DependencyUnavailableError,
    UnauthenticatedError,
    UserNotActiveError,
)
from order_service.testing import directory_for

CALLER = Caller(user_id=uuid.uuid4(), token="t0ken")


def scripted(
    *answers: int | Exception,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A transport handler answering with the given statuses/errors, then 200 active."""
    remaining = list(answers)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if remaining:
            answer = remaining.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return httpx.Response(answer)
        return httpx.Response(200, json={"is_active": True})

    return handle, seen


def subject(
    handler: Callable[[httpx.Request], Any], *, threshold: int = 5
) -> tuple[HttpUserDirectory, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = OrderMetrics(Metrics(registry))
    client = httpx.AsyncClient(base_url="http://user.test", transport=httpx.MockTransport(handler))
    return directory_for(client, metrics, threshold=threshold), registry


async def test_retryable_answers_are_retried_and_counted() -> None:
    handler, seen = scripted(503, httpx.ConnectError("refused"))
    directory, registry = subject(handler)
    await directory.ensure_active(CALLER, timeout_seconds=2)
    assert len(seen) == 3
    assert seen[0].headers["authorization"] == "Bearer t0ken"
    assert seen[0].url.path == f"/v1/users/{CALLER.user_id}"
    assert (
        registry.get_sample_value(
            "http_client_retries_total", {"peer": "user-service", "reason": "status_503"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "http_client_retries_total", {"peer": "user-service", "reason": "connect"}
        )
        == 1
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, UserNotActiveError), (403, UserNotActiveError), (401, UnauthenticatedError)],
)
async def test_answers_are_not_retried(status: int, error: type[Exception]) -> None:
    handler, seen = scripted(status)
    directory, _ = subject(handler)
    with pytest.raises(error):
        await directory.ensure_active(CALLER, timeout_seconds=2)
    assert len(seen) == 1


async def test_an_inactive_account_is_not_active() -> None:
    directory, _ = subject(lambda request: httpx.Response(200, json={"is_active": False}))
    with pytest.raises(UserNotActiveError):
        await directory.ensure_active(CALLER, timeout_seconds=2)


async def test_the_breaker_opens_and_then_fails_fast_without_calling() -> None:
    handler, seen = scripted(*[httpx.ConnectError("refused")] * 6)
    directory, registry = subject(handler, threshold=2)
    for _ in range(2):
        with pytest.raises(DependencyUnavailableError):
            await directory.ensure_active(CALLER, timeout_seconds=2)
    calls = len(seen)
    started = time.perf_counter()
    with pytest.raises(DependencyUnavailableError) as caught:
        await directory.ensure_active(CALLER, timeout_seconds=2)
    assert time.perf_counter() - started < 0.05
    assert len(seen) == calls
    assert caught.value.retry_after_seconds > 0
    assert registry.get_sample_value("circuit_breaker_state", {"breaker": "user-service"}) == 2
    assert (
        registry.get_sample_value("circuit_breaker_rejections_total", {"breaker": "user-service"})
        == 1
    )


async def test_the_whole_check_fits_in_the_time_given() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"is_active": True})

    directory, _ = subject(slow)
    started = time.perf_counter()
    with pytest.raises(DependencyUnavailableError):
        await directory.ensure_active(CALLER, timeout_seconds=0.2)
    assert time.perf_counter() - started < 0.5
