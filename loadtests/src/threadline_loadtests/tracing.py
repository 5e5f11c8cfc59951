"""Client spans for load traffic: every request starts a trace that the services continue.

Each request starts a trace of its own: its `traceparent` and `baggage: synthetic=true`
travel in the HTTP headers or the gRPC metadata. The services' samplers are parent-based, so
the load generator's sampling decision is the run's: at ratio 1.0 every request of a load run
is a trace in Jaeger (and in Tempo under compose). Whether or not a trace is sampled, its id
reaches the services, whose spans and log lines carry it.

A sampled request is a CLIENT span of the load generator's own tracer provider, exported over
OTLP. An unsampled one gets what the SDK would give it, a trace id and span id that nothing
records, written straight into the `traceparent` header: without a span processor, sampler
and context objects per request, the generator spends its CPU on load rather than on spans
nobody keeps (see docs/benchmarks/load.md for what a request costs it).

Client spans are exported over OTLP only when an endpoint is given: the collector may not run,
and a load generator that blocks on a missing collector measures the wrong thing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

__all__ = ["SYNTHETIC_BAGGAGE", "ClientCall", "LoadTracer"]

# The marker every request of a load run carries, as W3C baggage (`baggage: synthetic=true`).
SYNTHETIC_BAGGAGE = ("synthetic", "true")

SERVICE_NAME = "threadline-loadtests"
# W3C trace flags of an unsampled trace whose id is random (the SDK's own for such a trace).
_UNSAMPLED_RANDOM_ID_FLAGS = "02"


@dataclass(frozen=True, slots=True)
class ClientCall:
    """One traced request: the headers that carry its context, its trace id, and its span.

    `span` is the recorded CLIENT span of a sampled request; None when the trace is not
    sampled, as nothing would record it.
    """

    headers: Mapping[str, str]
    trace_id: str
    sampled: bool
    span: Span | None = None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self.span is not None:
            self.span.set_attribute(key, value)

    def failed(self, description: str) -> None:
        """Mark the span as an error (the request failed as far as the load test can tell)."""
        if self.span is not None:
            self.span.set_status(Status(StatusCode.ERROR, description))


class LoadTracer:
    """Starts a trace per request, a recorded CLIENT span when sampled, and its headers."""

    def __init__(
        self,
        *,
        sample_ratio: float,
        otlp_endpoint: str | None = None,
        exporter: SpanExporter | None = None,
        resource_attributes: Mapping[str, str] | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        if not 0.0 <= sample_ratio <= 1.0:
            raise ValueError(f"the trace sample ratio must be within [0, 1], not {sample_ratio}")
        self._sample_ratio = sample_ratio
        self._draw = draw
        resource = Resource.create({"service.name": SERVICE_NAME, **(resource_attributes or {})})
        # Root spans only, and only those `client_call` has decided to sample: the load
        # generator is where every trace of a run begins.
        self._provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
        if exporter is not None:
            self._provider.add_span_processor(SimpleSpanProcessor(exporter))
        elif otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
                OTLPSpanExporter,
            )

            self._provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True))
            )
        self._tracer = self._provider.get_tracer("loadtests")
        # Our own propagator, not the global one: what goes on the wire must not depend on
        # OTEL_PROPAGATORS in the environment that runs the load.
        self._propagator = CompositePropagator(
            [TraceContextTextMapPropagator(), W3CBaggagePropagator()]
        )
        self._synthetic = baggage.set_baggage(*SYNTHETIC_BAGGAGE)
        self._synthetic_header = "=".join(SYNTHETIC_BAGGAGE)

    @contextmanager
    def client_call(
        self, name: str, *, attributes: Mapping[str, AttributeValue] | None = None
    ) -> Iterator[ClientCall]:
        """A trace around one request (a CLIENT span when sampled); exceptions propagate."""
        # `<` so that ratio 0 never samples and ratio 1 always does (random() < 1).
        if self._draw() >= self._sample_ratio:
            yield self._unsampled()
            return
        span = self._tracer.start_span(
            name, context=self._synthetic, kind=SpanKind.CLIENT, attributes=attributes
        )
        headers: dict[str, str] = {}
        self._propagator.inject(headers, context=trace.set_span_in_context(span, self._synthetic))
        try:
            yield ClientCall(
                headers=headers,
                trace_id=format(span.get_span_context().trace_id, "032x"),
                sampled=True,
                span=span,
            )
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.end()

    def _unsampled(self) -> ClientCall:
        # As the SDK's RandomIdGenerator draws them; an all-zero id is invalid (W3C).
        trace_id = f"{random.getrandbits(128) or 1:032x}"
        span_id = f"{random.getrandbits(64) or 1:016x}"
        return ClientCall(
            headers={
                "traceparent": f"00-{trace_id}-{span_id}-{_UNSAMPLED_RANDOM_ID_FLAGS}",
                "baggage": self._synthetic_header,
            },
            trace_id=trace_id,
            sampled=False,
        )

    def shutdown(self) -> None:
        """Flush the spans still queued for export, then release the exporter."""
        self._provider.shutdown()
