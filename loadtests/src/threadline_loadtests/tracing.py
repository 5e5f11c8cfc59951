"""Client spans for load traffic: every request starts a trace that the services continue.

Each request gets a CLIENT span from the load generator's own tracer provider; its
`traceparent` and `baggage: synthetic=true` travel in the HTTP headers or the gRPC metadata.
The services' samplers are parent-based, so the load generator's sampling decision is the
run's: at ratio 1.0 every request of a load run is a trace in Tempo and Jaeger. Whether or not
the span is sampled, its trace id reaches the services, whose spans and log lines carry it.

Client spans are exported over OTLP only when an endpoint is given: the collector may not run,
and a load generator that blocks on a missing collector measures the wrong thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

__all__ = ["SYNTHETIC_BAGGAGE", "ClientCall", "LoadTracer"]

# The marker every request of a load run carries, as W3C baggage (`baggage: synthetic=true`).
SYNTHETIC_BAGGAGE = ("synthetic", "true")

SERVICE_NAME = "threadline-loadtests"


@dataclass(frozen=True, slots=True)
class ClientCall:
    """One traced request: its span, the headers that carry its context, and its trace id."""

    span: Span
    headers: Mapping[str, str]
    trace_id: str
    sampled: bool

    def failed(self, description: str) -> None:
        """Mark the span as an error (the request failed as far as the load test can tell)."""
        self.span.set_status(Status(StatusCode.ERROR, description))


class LoadTracer:
    """Starts a CLIENT span per request and renders its context as propagation headers."""

    def __init__(
        self,
        *,
        sample_ratio: float,
        otlp_endpoint: str | None = None,
        exporter: SpanExporter | None = None,
        resource_attributes: Mapping[str, str] | None = None,
    ) -> None:
        if not 0.0 <= sample_ratio <= 1.0:
            raise ValueError(f"the trace sample ratio must be within [0, 1], not {sample_ratio}")
        resource = Resource.create({"service.name": SERVICE_NAME, **(resource_attributes or {})})
        # Root spans only: the load generator is where every trace of a run begins.
        self._provider = TracerProvider(resource=resource, sampler=TraceIdRatioBased(sample_ratio))
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

    @contextmanager
    def client_call(
        self, name: str, *, attributes: Mapping[str, AttributeValue] | None = None
    ) -> Iterator[ClientCall]:
        """A CLIENT span around one request, ended on leaving; exceptions propagate."""
        span = self._tracer.start_span(
            name, context=self._synthetic, kind=SpanKind.CLIENT, attributes=attributes
        )
        headers: dict[str, str] = {}
        self._propagator.inject(headers, context=trace.set_span_in_context(span, self._synthetic))
        context = span.get_span_context()
        try:
            yield ClientCall(
                span=span,
                headers=headers,
                trace_id=format(context.trace_id, "032x"),
                sampled=context.trace_flags.sampled,
            )
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.end()

    def shutdown(self) -> None:
        """Flush the spans still queued for export, then release the exporter."""
        self._provider.shutdown()
