"""A lean pure-ASGI middleware: one SERVER span and one RED observation per HTTP request.

It emits the server spans the contrib ``opentelemetry-instrumentation-asgi`` would (stable
HTTP semantic conventions: ``http.request.method``, ``http.route``,
``http.response.status_code``, ``url.path``, ``url.scheme``, ``server.address``,
``server.port``, ``error.type``) without its per-message receive/send spans, header
processing and "recommended"-level attributes. On a 2-core machine the contrib FastAPI
instrumentation alone kept 0.40 of a bare route's throughput; see
docs/benchmarks/observability.md for what this one keeps.

It also writes an access log line (`observability.access_log`) for the requests its
`AccessPolicy` wants (`observability.access_policy`; by default every sampled request, every
5xx and every request slower than the latency objective): each trace the store keeps, and
each failure, finds its log line, while sampled-out, successful, fast traffic pays nothing for
logging.

An exception the application raises is recorded on the span, redacted (`span_errors`). What
happens to it next depends on whether the response was complete:

* complete (Starlette's ``ServerErrorMiddleware`` sends its 500, then re-raises "so that the
  server can log it"): it is logged here, inside the span, and not re-raised. A server that
  sees an exception after a complete response closes the connection without a
  ``Connection: close`` header, so a keep-alive client's *next* request on it is lost with no
  response and no log line; the response is already out, so nothing is gained by raising.
* not complete: it is re-raised, marked with the span's context (`observability.escaped`),
  so the server's own line about it (uvicorn's ``Exception in ASGI application``) still
  carries the request's ``trace_id`` and ``span_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from observability import escaped
from observability.access_log import AccessLog, access_log_of
from observability.access_policy import DEFAULT_ACCESS_POLICY, AccessPolicy
from observability.metrics import UNMATCHED_ROUTE, http_method_label, status_class
from observability.propagation import propagation_fields
from observability.redaction import Redactor
from observability.span_errors import record_exception

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer
    from prometheus_client import Histogram

__all__ = ["DEFAULT_EXCLUDED_PATHS", "ObservabilityMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_EXCLUDED_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/startupz", "/metrics"})
_HOST = b"host"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_log = logging.getLogger("observability.asgi")


class ObservabilityMiddleware:
    """Traces and measures every HTTP request except the excluded paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracer: Tracer,
        duration: Histogram,
        excluded_paths: frozenset[str] = DEFAULT_EXCLUDED_PATHS,
        access_log: AccessLog | bool = True,
        redactor: Redactor | None = None,
        access_policy: AccessPolicy = DEFAULT_ACCESS_POLICY,
    ) -> None:
        self.app = app
        self._access_log = access_log_of(access_log)
        self._access_policy = access_policy
        self._redactor = redactor or Redactor()
        self._tracer = tracer
        self._duration = duration
        self._excluded = excluded_paths
        self._fields = frozenset(name.encode("latin-1") for name in propagation_fields())
        # Label children resolved once per (method, route, status class): a dict hit instead of
        # prometheus_client's label validation and lock on every request.
        self._children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = http_method_label(scope["method"])
        span, parent = self._start_span(scope, method)
        recording = span.is_recording()
        token = otel_context.attach(set_span_in_context(span, parent))
        status = 0
        complete = False

        async def send_with_status(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_status)
        except Exception as exc:
            error = exc
            if not complete:
                escaped.mark(exc, span.get_span_context())
                raise
            # The response is out (typically the 500 of Starlette's error middleware, which
            # re-raises): logged here, in the span; raising on would make the server close a
            # keep-alive connection its client still believes open (module docstring).
            _log.error("Exception in ASGI application", exc_info=exc)
        except BaseException as exc:  # cancellation: never swallowed
            error = exc
            escaped.mark(exc, span.get_span_context())
            raise
        finally:
            if error is not None and status == 0:
                status = 500
            route_object = scope.get("route")
            route = getattr(route_object, "path", None) if route_object is not None else None
            if recording:
                _finish_span(span, method, route, status, error, redactor=self._redactor)
            span.end()
            seconds = time.perf_counter() - started
            span_context = span.get_span_context()
            sampled = span_context.trace_flags.sampled
            failed = status >= 500
            access_log = self._access_log
            if access_log is not None and self._access_policy.wants(
                sampled=sampled, failed=failed, seconds=seconds
            ):
                # Still inside the span's context, so the line carries its trace and span ids.
                access_log.write(
                    logging.ERROR if failed else logging.INFO,
                    "request handled",
                    {
                        "http.request.method": method,
                        "http.route": route or UNMATCHED_ROUTE,
                        "http.response.status_code": status,
                        "duration_ms": round(seconds * 1000, 3),
                    },
                    span_context,
                )
            otel_context.detach(token)
            # The exemplar names a trace the store keeps: a sampled one only.
            exemplar = {"trace_id": format(span_context.trace_id, "032x")} if sampled else None
            self._observe(method, route or UNMATCHED_ROUTE, status, seconds, exemplar)

    def _start_span(self, scope: Scope, method: str) -> tuple[Span, Context | None]:
        """The request's SERVER span, child of the caller's context when it sent one."""
        carrier: dict[str, str] = {}
        host = None
        for name, value in scope["headers"]:
            if name in self._fields:
                carrier[name.decode("latin-1")] = value.decode("latin-1")
            elif name == _HOST:
                host = value
        parent = propagate.extract(carrier) if carrier else None
        span = self._tracer.start_span(method, parent, kind=SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes(_request_attributes(scope, method, host))
        return span, parent

    def _observe(
        self, method: str, route: str, status: int, seconds: float, exemplar: dict[str, str] | None
    ) -> None:
        key = (method, route, status_class(status))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._duration.labels(*key)
        child.observe(seconds, exemplar)


def _request_attributes(scope: Scope, method: str, host: bytes | None) -> dict[str, Any]:
    # The semconv "required" attributes plus server.address/port. The "recommended" ones
    # (client.address, user_agent.original, network.protocol.version) are left out on purpose:
    # OTLP encoding costs ~7 µs per attribute per span, paid on every sampled request.
    scheme = scope.get("scheme", "http")
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.path": scope["path"],
        "url.scheme": scheme,
    }
    if method == "_OTHER":
        attributes["http.request.method_original"] = scope["method"]
    if host is not None:
        # The authority the client used, as semconv asks, rather than the bound address.
        address, port = _split_authority(host.decode("latin-1"), scheme)
        attributes["server.address"] = address
        attributes["server.port"] = port
    elif scope.get("server"):
        address, port = scope["server"]
        attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
    return attributes


def _split_authority(authority: str, scheme: str) -> tuple[str, int]:
    if authority.startswith("["):  # an IPv6 literal: [::1]:8000
        address, _, rest = authority[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        address, _, port = authority.partition(":")
    return address, int(port) if port.isdigit() else _DEFAULT_PORTS.get(scheme, 80)


def _finish_span(
    span: Any,
    method: str,
    route: str | None,
    status: int,
    error: BaseException | None,
    *,
    redactor: Redactor,
) -> None:
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    if status:
        span.set_attribute("http.response.status_code", status)
    if error is not None:
        message = record_exception(span, error, redactor)
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, message))
    elif status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))
