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

_REFUSAL = "the server is shutting down; retry on another instance"
# How long no new call may arrive before the drained server is stopped.
QUIET_PERIOD_SECONDS = 0.25


class DrainingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, services: frozenset[str]) -> None:
        self._services = services
        self._draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_arrival = 0.0
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

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

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or handler.unary_unary is None:
            return handler
        if method.lstrip("/").rpartition("/")[0] not in self._services:
            return handler
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._guard(handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, wrapped)
        return wrapped

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
