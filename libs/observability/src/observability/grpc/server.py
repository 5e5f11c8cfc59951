"""A grpc.aio server interceptor: one SERVER span and one RED observation per RPC.

Same spans as the contrib gRPC instrumentation (``rpc.system``, ``rpc.service``,
``rpc.method``, ``rpc.grpc.status_code``; span name ``package.Service/Method``), with the
wrapped handler built once per method instead of once per call.

Like the HTTP middleware it writes an access log line (`observability.access_log`) for the
calls its `AccessPolicy` wants (`observability.access_policy`; by default every sampled call,
every call that ends in a server-side error code and every call slower than the latency
objective), records a handler's
exception on the span redacted (`observability.span_errors`), and marks an exception leaving
the handler with the call's span context (`observability.escaped`): grpc.aio logs it once the
handler has returned ("Unexpected [...] raised by servicer method"), outside the span, and that
line still carries the call's ``trace_id`` and ``span_id``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from observability import escaped
from observability.access_log import AccessLog, access_log_of
from observability.access_policy import (
    DEFAULT_ACCESS_POLICY,
    AccessLogMode,
    AccessPolicy,
    access_policy_of,
)
from observability.grpc._common import (
    METRIC_CODE_LABELS,
    as_status_code,
    rpc_attributes,
    split_method,
)
from observability.grpc.faults import FaultInjectionInterceptor
from observability.propagation import propagation_fields
from observability.redaction import Redactor
from observability.span_errors import record_exception

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer
    from prometheus_client import Histogram

    from observability.telemetry import Telemetry

__all__ = ["DEFAULT_EXCLUDED_SERVICES", "ObservabilityServerInterceptor", "server_interceptors"]

DEFAULT_EXCLUDED_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

# The codes OpenTelemetry's semantic conventions count as a server span's error.
SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _status_of(
    error: BaseException | None, context: grpc.aio.ServicerContext[Any, Any]
) -> grpc.StatusCode:
    """The status a handler that set none ended with: OK, the caller gave up, or UNKNOWN."""
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError):
        # grpc.aio cancels the handler when the deadline passes or the client cancels; neither
        # is an unknown server failure, and the two mean different things on a dashboard.
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


_HANDLER_KINDS = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler),
    ("unary_stream", grpc.unary_stream_rpc_method_handler),
    ("stream_unary", grpc.stream_unary_rpc_method_handler),
    ("stream_stream", grpc.stream_stream_rpc_method_handler),
)


def server_interceptors(
    telemetry: Telemetry,
    *,
    excluded_services: frozenset[str] = DEFAULT_EXCLUDED_SERVICES,
    access_log: AccessLogMode | bool | None = None,
) -> list[grpc.aio.ServerInterceptor]:
    """Interceptors to pass to ``grpc.aio.server(interceptors=...)``; put them first.

    Tracing and RED outside, the fault flags (`observability.grpc.faults`) inside, so a
    faulted call is traced and measured like any other. The fault interceptor runs within the
    tracing one rather than as a second grpc.aio interceptor: each interceptor grpc.aio runs
    costs every RPC an extra hop (about 20 µs of CPU on the benchmark machine), while the
    handler the two build together is built once per method.
    """
    policy = access_policy_of(telemetry.settings, access_log)
    return [
        ObservabilityServerInterceptor(
            tracer=telemetry.tracer("observability.grpc"),
            duration=telemetry.metrics.grpc_server_duration,
            excluded_services=excluded_services,
            access_log=telemetry.access_log if policy.mode is not AccessLogMode.OFF else False,
            redactor=telemetry.redactor,
            access_policy=policy,
            inner=FaultInjectionInterceptor(telemetry.faults, excluded_services=excluded_services),
        ),
    ]


class _Observed:
    """Per-method state: names, label children and the one span/metric wrapper."""

    def __init__(
        self,
        full_method: str,
        tracer: Tracer,
        duration: Histogram,
        *,
        access_log: AccessLog | None,
        access_policy: AccessPolicy,
        redactor: Redactor,
    ) -> None:
        self.service, self.method = split_method(full_method)
        self._access_log = access_log
        self._access_policy = access_policy
        self._redactor = redactor
        self.span_name = f"{self.service}/{self.method}"
        self.attributes = rpc_attributes(self.service, self.method)
        self._tracer = tracer
        self._duration = duration
        self._children: dict[grpc.StatusCode, Any] = {}
        self._fields = propagation_fields()

    def start(self, context: grpc.aio.ServicerContext[Any, Any]) -> tuple[Span, object]:
        carrier: dict[str, str] = {}
        fields = self._fields
        for key, value in context.invocation_metadata() or ():
            if key in fields:
                carrier[key] = value if isinstance(value, str) else value.decode("latin-1")
        parent = propagate.extract(carrier) if carrier else None
        span = self._tracer.start_span(self.span_name, parent, kind=SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes(self.attributes)
        return span, otel_context.attach(set_span_in_context(span, parent))

    def finish(
        self,
        span: Span,
        token: object,
        started: float,
        context: grpc.aio.ServicerContext[Any, Any],
        error: BaseException | None,
    ) -> None:
        code = as_status_code(context.code(), _status_of(error, context))
        recording = span.is_recording()
        if recording:
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code is not grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, code.name))
            if error is not None and not isinstance(error, grpc.aio.AbortError):
                record_exception(span, error, self._redactor)
        span.end()
        seconds = time.perf_counter() - started
        span_context = span.get_span_context()
        sampled = span_context.trace_flags.sampled
        failed = code in SERVER_ERROR_CODES
        access_log = self._access_log
        if access_log is not None and self._access_policy.wants(
            sampled=sampled, failed=failed, seconds=seconds
        ):
            # Still inside the span's context, so the line carries its trace and span ids.
            access_log.write(
                logging.ERROR if failed else logging.INFO,
                "rpc handled",
                {
                    "rpc.service": self.service,
                    "rpc.method": self.method,
                    "rpc.grpc.status_code": code.name,
                    "duration_ms": round(seconds * 1000, 3),
                },
                span_context,
            )
        otel_context.detach(token)  # type: ignore[arg-type]
        child = self._children.get(code)
        if child is None:
            child = self._children[code] = self._duration.labels(
                self.service, self.method, METRIC_CODE_LABELS[code]
            )
        # The exemplar names a trace the store keeps: a sampled one only.
        child.observe(
            seconds, {"trace_id": format(span_context.trace_id, "032x")} if sampled else None
        )

    def wrap_unary_response(
        self, behavior: Callable[[Any, Any], Awaitable[Any]]
    ) -> Callable[[Any, Any], Awaitable[Any]]:
        async def observed(request: Any, context: Any) -> Any:
            started = time.perf_counter()
            span, token = self.start(context)
            error: BaseException | None = None
            try:
                return await behavior(request, context)
            except BaseException as exc:
                error = exc
                escaped.mark(exc, span.get_span_context())
                raise
            finally:
                self.finish(span, token, started, context, error)

        return observed

    def wrap_stream_response(
        self, behavior: Callable[[Any, Any], AsyncIterator[Any]]
    ) -> Callable[[Any, Any], AsyncIterator[Any]]:
        async def observed(request: Any, context: Any) -> AsyncIterator[Any]:
            started = time.perf_counter()
            span, token = self.start(context)
            error: BaseException | None = None
            try:
                async for response in behavior(request, context):
                    yield response
            except BaseException as exc:
                error = exc
                escaped.mark(exc, span.get_span_context())
                raise
            finally:
                self.finish(span, token, started, context, error)

        return observed


class ObservabilityServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps each method handler once; health and reflection calls pass through untouched.

    ``inner``, another interceptor, wraps the handler first, once per method (the tracing
    then wraps its result): it must return the same handler for the same one, as a caching
    interceptor does.
    """

    def __init__(
        self,
        *,
        tracer: Tracer,
        duration: Histogram,
        excluded_services: frozenset[str] = DEFAULT_EXCLUDED_SERVICES,
        access_log: AccessLog | bool = True,
        redactor: Redactor | None = None,
        access_policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
        inner: grpc.aio.ServerInterceptor | None = None,
    ) -> None:
        self._tracer = tracer
        self._duration = duration
        self._excluded = excluded_services
        self._access_log = access_log_of(access_log)
        self._access_policy = access_policy
        self._inner = inner
        self._redactor = redactor or Redactor()
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        full_method: str = handler_call_details.method
        cached = self._wrapped.get(full_method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if split_method(full_method)[0] in self._excluded:
            return handler
        inner_handler = handler
        if self._inner is not None:

            async def resolved(_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
                return handler

            inner_handler = await self._inner.intercept_service(resolved, handler_call_details)
        wrapped = self._wrap(full_method, inner_handler)
        # Keyed by the handler the server resolved, so a new one (a re-registration) is wrapped
        # again, by both.
        self._wrapped[full_method] = (handler, wrapped)
        return wrapped

    def _wrap(self, full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        observed = _Observed(
            full_method,
            self._tracer,
            self._duration,
            access_log=self._access_log,
            access_policy=self._access_policy,
            redactor=self._redactor,
        )
        for kind, factory in _HANDLER_KINDS:
            behavior = getattr(handler, kind)
            if behavior is None:
                continue
            if inspect.isasyncgenfunction(behavior):
                wrapped: Callable[[Any, Any], Any] = observed.wrap_stream_response(behavior)
            elif inspect.iscoroutinefunction(behavior):
                wrapped = observed.wrap_unary_response(behavior)
            else:
                # grpc.aio runs plain functions in its thread pool; awaiting them would break.
                return handler
            return factory(
                wrapped,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
