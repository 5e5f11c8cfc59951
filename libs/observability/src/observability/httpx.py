"""Outgoing HTTP with httpx: contrib spans + W3C propagation, and client-side RED metrics.

Spans and ``traceparent`` injection come from ``opentelemetry-instrumentation-httpx``; the
``http_client_request_duration_seconds{peer,method,status_class}`` histogram comes from a
transport wrapper. ``peer`` is a fixed name per client (e.g. ``"user-service"``), never a host
taken from the URL, so the label set stays closed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

if TYPE_CHECKING:
    from observability.metrics import Metrics
    from observability.telemetry import Telemetry

__all__ = ["MeteredTransport", "instrument_client"]


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


def instrument_client(
    client: httpx.AsyncClient, telemetry: Telemetry, *, peer: str
) -> httpx.AsyncClient:
    """Instrument ``client`` in place (spans, propagation, RED under ``peer``) and return it."""
    # httpx offers no public hook around the transport; swapping `_transport` is the seam the
    # contrib instrumentation itself relies on.
    inner: httpx.AsyncBaseTransport = client._transport
    client._transport = MeteredTransport(inner, metrics=telemetry.metrics, peer=peer)
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=telemetry.tracer_provider)
    return client
