"""grpc.aio client interceptors: a CLIENT span, W3C propagation in metadata, client-side RED."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from observability.grpc._common import (
    METRIC_CODE_LABELS,
    as_status_code,
    rpc_attributes,
    split_method,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer
    from prometheus_client import Histogram

    from observability.telemetry import Telemetry

__all__ = ["client_interceptors"]


def client_interceptors(telemetry: Telemetry) -> list[grpc.aio.ClientInterceptor]:
    """Interceptors to pass to ``grpc.aio.insecure_channel(..., interceptors=...)``."""
    tracer = telemetry.tracer("observability.grpc")
    duration = telemetry.metrics.grpc_client_duration
    return [_UnaryUnary(tracer, duration), _UnaryStream(tracer, duration)]


class _ClientObserver:
    def __init__(self, tracer: Tracer, duration: Histogram) -> None:
        self._tracer = tracer
        self._duration = duration

    def _begin(self, details: grpc.aio.ClientCallDetails) -> tuple[Any, Any, str, str, float]:
        full_method = (
            details.method.decode() if isinstance(details.method, bytes) else details.method
        )
        service, method = split_method(full_method)
        span = self._tracer.start_span(f"{service}/{method}", kind=SpanKind.CLIENT)
        if span.is_recording():
            span.set_attributes(rpc_attributes(service, method))
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=set_span_in_context(span))
        for key, value in carrier.items():
            metadata[key] = value
        new_details = details._replace(metadata=metadata)
        return span, new_details, service, method, time.perf_counter()

    def _end(self, span: Any, service: str, method: str, started: float, code: Any) -> None:
        status = as_status_code(code, grpc.StatusCode.UNKNOWN)
        if span.is_recording():
            span.set_attribute("rpc.grpc.status_code", status.value[0])
            if status is not grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, status.name))
        span.end()
        context = span.get_span_context()
        exemplar = (
            {"trace_id": format(context.trace_id, "032x")} if context.trace_flags.sampled else None
        )
        self._duration.labels(service, method, METRIC_CODE_LABELS[status]).observe(
            time.perf_counter() - started, exemplar
        )


class _UnaryUnary(_ClientObserver, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        span, details, service, method, started = self._begin(client_call_details)
        try:
            call = await continuation(details, request)
            code = await call.code()
        except grpc.aio.AioRpcError as error:
            self._end(span, service, method, started, error.code())
            raise
        except BaseException:
            self._end(span, service, method, started, grpc.StatusCode.CANCELLED)
            raise
        self._end(span, service, method, started, code)
        return call


class _UnaryStream(_ClientObserver, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self, tracer: Tracer, duration: Histogram) -> None:
        super().__init__(tracer, duration)
        self._pending: set[asyncio.Task[None]] = set()  # the loop holds tasks only weakly

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        span, details, service, method, started = self._begin(client_call_details)
        call = await continuation(details, request)

        async def record_when_done() -> None:
            # The call is finished when this runs; code() only reads the final status.
            self._end(span, service, method, started, await call.code())

        def done(_call: Any) -> None:
            # Done callbacks are synchronous but an aio call's code() is a coroutine.
            task = asyncio.get_running_loop().create_task(record_when_done())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        call.add_done_callback(done)
        return call
