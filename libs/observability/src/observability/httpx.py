"""Outgoing HTTP with httpx: contrib spans + W3C propagation, and client-side RED metrics.

Spans and ``traceparent`` injection come from ``opentelemetry-instrumentation-httpx``; the
``http_client_request_duration_seconds{peer,method,status_class}`` histogram comes from a
transport wrapper. ``peer`` is a fixed name per client (e.g. ``"user-service"``), never a host
taken from the URL, so the label set stays closed.

Under a parent-based sampler, a request made inside an unsampled trace would get a span that is
never recorded; building it (attributes, URL parsing, header normalisation) cost more than a
third of such a request's client CPU. Those requests take a short path that only injects the
trace context, so the callee still continues the same, unsampled trace.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
from opentelemetry import propagate
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from observability.tracing import drops_children_of_unsampled, in_unsampled_trace

if TYPE_CHECKING:
    from observability.metrics import Metrics
    from observability.telemetry import Telemetry

__all__ = ["MeteredTransport", "UnsampledShortcut", "instrument_client"]


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and records one histogram observation per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, metrics: Metrics, peer: str) -> None:
        self._inner = inner
        self._metrics = metrics
        self._peer = peer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        status = 0
        try:
            response = await self._inner.handle_async_request(request)
            status = response.status_code
            return response
        finally:
            self._metrics.observe_http_client(
                peer=self._peer,
                method=request.method,
                status=status,
                seconds=time.perf_counter() - started,
            )

    async def aclose(self) -> None:
        await self._inner.aclose()


class UnsampledShortcut(httpx.AsyncBaseTransport):
    """Sends requests of unsampled traces around the span-making transport, context injected."""

    def __init__(
        self, *, traced: httpx.AsyncBaseTransport, plain: httpx.AsyncBaseTransport
    ) -> None:
        self._traced = traced
        self._plain = plain

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if in_unsampled_trace():
            propagate.inject(request.headers)
            return await self._plain.handle_async_request(request)
        return await self._traced.handle_async_request(request)

    async def aclose(self) -> None:
        # Both paths share one inner transport (one connection pool): close it once.
        await self._plain.aclose()


def instrument_client(
    client: httpx.AsyncClient, telemetry: Telemetry, *, peer: str
) -> httpx.AsyncClient:
    """Instrument ``client`` in place (spans, propagation, RED under ``peer``) and return it."""
    # httpx offers no public hook around the transport; swapping `_transport` is the seam the
    # contrib instrumentation itself relies on.
    inner: httpx.AsyncBaseTransport = client._transport
    traced = MeteredTransport(inner, metrics=telemetry.metrics, peer=peer)
    client._transport = traced
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=telemetry.tracer_provider)
    if drops_children_of_unsampled(telemetry.settings):
        plain = MeteredTransport(inner, metrics=telemetry.metrics, peer=peer)
        client._transport = UnsampledShortcut(traced=traced, plain=plain)
    return client
