"""A lean pure-ASGI middleware: one SERVER span and one RED observation per HTTP request.

It emits the spans the contrib ``opentelemetry-instrumentation-asgi`` would (stable HTTP
semantic conventions: ``http.request.method``, ``http.route``, ``http.response.status_code``,
``url.path``, ``url.scheme``, ``server.address``, ``server.port``, ``client.address``,
``network.protocol.version``, ``user_agent.original``, ``error.type``) without its per-message
receive/send spans and header processing. On a 2-core machine the contrib FastAPI
instrumentation alone kept 0.40 of a bare route's throughput; see
docs/benchmarks/observability.md for what this one keeps.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from observability.metrics import UNMATCHED_ROUTE, http_method_label, status_class

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer
    from prometheus_client import Histogram

__all__ = ["DEFAULT_EXCLUDED_PATHS", "ObservabilityMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_EXCLUDED_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/startupz", "/metrics"})
_USER_AGENT = b"user-agent"


class ObservabilityMiddleware:
    """Traces and measures every HTTP request except the excluded paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracer: Tracer,
        duration: Histogram,
        excluded_paths: frozenset[str] = DEFAULT_EXCLUDED_PATHS,
    ) -> None:
        self.app = app
        self._tracer = tracer
        self._duration = duration
        self._excluded = excluded_paths
        self._fields = frozenset(
            name.encode("latin-1") for name in propagate.get_global_textmap().fields
        )
        # Label children resolved once per (method, route, status class): a dict hit instead of
        # prometheus_client's label validation and lock on every request.
        self._children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = http_method_label(scope["method"])
        carrier: dict[str, str] = {}
        user_agent = None
        for name, value in scope["headers"]:
            if name in self._fields:
                carrier[name.decode("latin-1")] = value.decode("latin-1")
            elif name == _USER_AGENT:
                user_agent = value
        parent = propagate.extract(carrier) if carrier else None
        span = self._tracer.start_span(method, parent, kind=SpanKind.SERVER)
        recording = span.is_recording()
        if recording:
            span.set_attributes(_request_attributes(scope, method, user_agent))
        token = otel_context.attach(set_span_in_context(span, parent))
        status = 0

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if error is not None and status == 0:
                status = 500
            route_object = scope.get("route")
            route = getattr(route_object, "path", None) if route_object is not None else None
            if recording:
                _finish_span(span, method, route, status, error)
            span.end()
            otel_context.detach(token)
            self._observe(method, route or UNMATCHED_ROUTE, status, started, span)

    def _observe(self, method: str, route: str, status: int, started: float, span: Any) -> None:
        key = (method, route, status_class(status))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._duration.labels(*key)
        span_context = span.get_span_context()
        exemplar = (
            {"trace_id": format(span_context.trace_id, "032x")}
            if span_context.trace_flags.sampled
            else None
        )
        child.observe(time.perf_counter() - started, exemplar)


def _request_attributes(scope: Scope, method: str, user_agent: bytes | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    if method == "_OTHER":
        attributes["http.request.method_original"] = scope["method"]
    server = scope.get("server")
    if server:
        attributes["server.address"] = server[0]
        if server[1] is not None:
            attributes["server.port"] = server[1]
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    if user_agent is not None:
        attributes["user_agent.original"] = user_agent.decode("latin-1")
    return attributes


def _finish_span(
    span: Any, method: str, route: str | None, status: int, error: BaseException | None
) -> None:
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    if status:
        span.set_attribute("http.response.status_code", status)
    if error is not None:
        span.record_exception(error)
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, str(error)))
    elif status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))
