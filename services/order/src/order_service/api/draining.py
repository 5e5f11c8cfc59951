"""Graceful drain for grpc.aio: refuse new RPCs with UNAVAILABLE, let running ones finish.

``server.stop(grace)`` alone cancels every call gRPC has received but not yet handed to a
handler, and under load that is most of a burst: those callers see CANCELLED, which does
not say "safe to retry elsewhere". So the drain is done in two steps: first this
interceptor answers each new call UNAVAILABLE while the calls already running complete, and
only when none is left and no new call has arrived for a short quiet period (or the grace
period ends) is the server stopped. The quiet period matters: calls a client sent just before
it saw the refusals are still queued inside gRPC, and stopping then would cancel them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from order_service.api.errors import status_trailer
from order_service.api.unary_interceptor import Behavior, UnaryWrappingInterceptor

_REFUSAL = "the server is shutting down; retry on another instance"
# How long no new call may arrive before the drained server is stopped.
QUIET_PERIOD_SECONDS = 0.25


class DrainingInterceptor(UnaryWrappingInterceptor):
    def __init__(self, services: frozenset[str]) -> None:
        super().__init__(services)
        self._draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_arrival = 0.0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def drain(self, server: grpc.aio.Server, seconds_left: float) -> None:
        """Refuse new calls, wait for running ones, then stop the server (drain step)."""
        deadline = time.monotonic() + seconds_left
        self._draining = True
        with contextlib.suppress(TimeoutError):
            # Keep a second of the grace period for the steps that follow.
            async with asyncio.timeout(max(seconds_left - 1.0, 0.0)):
                while True:
                    await self._idle.wait()
                    quiet_for = time.monotonic() - self._last_arrival
                    if quiet_for >= QUIET_PERIOD_SECONDS and self._idle.is_set():
                        break
                    await asyncio.sleep(max(QUIET_PERIOD_SECONDS - quiet_for, 0.01))
        await server.stop(max(deadline - time.monotonic(), 0.1))

    def wrap(self, behavior: Behavior) -> Behavior:
        return self._guard(behavior)

    def _guard(self, behavior: Callable[[Any, Any], Awaitable[Any]]) -> Callable[..., Any]:
        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            self._last_arrival = time.monotonic()
            if self._draining:
                code = grpc.StatusCode.UNAVAILABLE
                await context.abort(
                    code,
                    _REFUSAL,
                    trailing_metadata=(
                        ("grpc-status-details-bin", status_trailer(code, _REFUSAL, [])),
                    ),
                )
            self._in_flight += 1
            self._idle.clear()
            try:
                return await behavior(request, context)
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

        return guarded
