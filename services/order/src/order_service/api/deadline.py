"""A ceiling on how long any call runs, whatever deadline its client set (or none).

gRPC lets a client ask for any deadline, or none at all, and the server's work for that call
then holds a database connection, a slot of `max_concurrent_rpcs` and memory for as long as the
client is willing to wait. This interceptor clamps instead of refusing: a call runs until the
earlier of its own deadline and the ceiling, and one the ceiling ends is answered
DEADLINE_EXCEEDED with a message naming the setting. Refusing long deadlines up front was the
alternative; it would break every client whose library sets a generous default deadline (or
none, grpcurl's default) for no gain, since a call that finishes in time never meets the
ceiling at all.

The handler is cancelled when the ceiling is reached, exactly as gRPC cancels it when the
client's own deadline passes, so whatever it was doing rolls back the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from order_service.api.errors import status_trailer
from order_service.api.unary_interceptor import Behavior, UnaryWrappingInterceptor

_log = logging.getLogger(__name__)


class DeadlineCeilingInterceptor(UnaryWrappingInterceptor):
    """Ends every unary call of ``services`` after ``ceiling_seconds`` at the latest."""

    def __init__(self, services: frozenset[str], *, ceiling_seconds: float) -> None:
        super().__init__(services)
        self._ceiling = ceiling_seconds
        self._message = (
            f"the call ran into the server's deadline ceiling of {ceiling_seconds:g} s "
            "(ORDER_GRPC_MAX_DEADLINE_SECONDS)"
        )

    def wrap(self, behavior: Behavior) -> Behavior:
        return self._bounded(behavior)

    def _bounded(self, behavior: Callable[[Any, Any], Awaitable[Any]]) -> Callable[..., Any]:
        async def bounded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            remaining: float | None = context.time_remaining()
            if remaining is not None and remaining <= self._ceiling:
                # The client's own deadline comes first: gRPC enforces it.
                return await behavior(request, context)
            try:
                async with asyncio.timeout(self._ceiling):
                    return await behavior(request, context)
            except TimeoutError:
                code = grpc.StatusCode.DEADLINE_EXCEEDED
                _log.warning(
                    "rpc refused",
                    extra={"rpc.grpc.status_code": code.name, "reason": self._message},
                )
                await context.abort(
                    code,
                    self._message,
                    trailing_metadata=(
                        ("grpc-status-details-bin", status_trailer(code, self._message, [])),
                    ),
                )

        return bounded
