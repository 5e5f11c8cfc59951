"""Fault flags on the gRPC edge: a grpc.aio server interceptor that delays or fails flagged RPCs.

`observability.grpc.server_interceptors` runs it inside the tracing interceptor, so a
faulted call still has its SERVER span (marked ``fault.injected``) and its RED observation. A
flag's target is the full method, ``/order.v1.OrderService/CreateOrder``, or ``*``; health and
reflection are never faulted (a drill must not make the orchestrator kill the process).

An injected failure is ``UNAVAILABLE`` with a message saying it was injected and, in
``grpc-status-details-bin``, a ``google.rpc.Status`` holding an ``ErrorInfo`` with reason
``INJECTED_FAULT`` and the flag's id: a client, a test or a drill tells it from a real outage.
Unary-unary methods are faulted (the only kind Threadline serves); other kinds pass untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from observability.grpc._common import split_method

if TYPE_CHECKING:
    from observability.faults import FaultRegistry, Injection

__all__ = ["INJECTED_FAULT_REASON", "FaultInjectionInterceptor"]

INJECTED_FAULT_REASON: Final = "INJECTED_FAULT"
_DOMAIN: Final = "threadline.observability"

Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def injected_failure_message(injection: Injection) -> str:
    fault = injection.fault
    return f"injected fault: flag {fault.id} on {fault.target!r} failed this call on purpose"


def _status_details(injection: Injection, message: str) -> bytes:
    info = error_details_pb2.ErrorInfo(
        reason=INJECTED_FAULT_REASON,
        domain=_DOMAIN,
        metadata={"fault_id": injection.fault.id, "target": injection.fault.target},
    )
    packed = any_pb2.Any()
    packed.Pack(info)
    status = status_pb2.Status(
        code=grpc.StatusCode.UNAVAILABLE.value[0], message=message, details=[packed]
    )
    return bytes(status.SerializeToString())


class FaultInjectionInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every unary method (of services not ``excluded``) once, to apply fault flags."""

    def __init__(self, faults: FaultRegistry, *, excluded_services: frozenset[str]) -> None:
        self._faults = faults
        self._excluded = excluded_services
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or handler.unary_unary is None:
            return handler
        if split_method(method)[0] in self._excluded:
            return handler
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if not asyncio.iscoroutinefunction(handler.unary_unary):
            return handler  # a sync handler runs in grpc's thread pool; leave it alone
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, behavior: Behavior) -> Behavior:
        faults = self._faults

        async def faulted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            injection = faults.injection(method) if faults.any_set else None
            if injection is None:
                return await behavior(request, context)
            if injection.delay_seconds:
                await asyncio.sleep(injection.delay_seconds)
            if injection.fail:
                message = injected_failure_message(injection)
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE,
                    message,
                    trailing_metadata=(
                        ("grpc-status-details-bin", _status_details(injection, message)),
                    ),
                )
            return await behavior(request, context)

        return faulted
