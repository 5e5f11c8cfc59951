"""The tracer provider: resource, sampler and exporter chosen from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

if TYPE_CHECKING:
    from observability.settings import ObservabilitySettings

__all__ = ["build_resource", "build_sampler", "build_tracer_provider"]


def build_resource(settings: ObservabilitySettings) -> Resource:
    """service.name, service.version, deployment.environment.name and service.instance.id."""
    attributes: dict[str, str] = dict(settings.resource_attributes)
    attributes.update(
        {
            "service.name": settings.service_name,
            "service.version": settings.service_version,
            "deployment.environment.name": settings.environment,
            "service.instance.id": settings.service_instance_id,
        }
    )
    return Resource.create(attributes)


def build_sampler(settings: ObservabilitySettings) -> Sampler:
    """Map ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` onto an SDK sampler."""
    ratio = TraceIdRatioBased(settings.traces_sampler_ratio)
    samplers: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": ratio,
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBased(ratio),
    }
    return samplers[settings.traces_sampler]


def build_tracer_provider(
    settings: ObservabilitySettings,
    resource: Resource,
    *,
    span_exporter: SpanExporter | None = None,
) -> TracerProvider:
    """A provider exporting in batches over OTLP, or synchronously to an injected test exporter."""
    provider = TracerProvider(resource=resource, sampler=build_sampler(settings))
    if span_exporter is not None:
        # Tests read spans right after the request: export synchronously.
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    elif settings.traces_exporter == "otlp":
        # The stock OTLP/gRPC exporter with a faster encoder (observability.otlp).
        from observability.otlp import LeanOTLPSpanExporter  # noqa: PLC0415

        exporter = LeanOTLPSpanExporter(endpoint=settings.otlp_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    elif settings.traces_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider
