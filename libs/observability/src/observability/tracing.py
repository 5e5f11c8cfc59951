"""The tracer provider: resource, sampler and exporter chosen from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler

from observability.sampling import AdjustableRatioSampler

if TYPE_CHECKING:
    from observability.otlp_batch import EncodingBatchSpanProcessor
    from observability.settings import ObservabilitySettings

__all__ = [
    "build_resource",
    "build_sampler",
    "build_tracer_provider",
    "drops_children_of_unsampled",
    "in_unsampled_trace",
    "samples_by_ratio",
]

#: The samplers ``OTEL_TRACES_SAMPLER_ARG`` (the ratio) means something to.
_RATIO_SAMPLERS = frozenset({"traceidratio", "parentbased_traceidratio"})


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


def samples_by_ratio(settings: ObservabilitySettings) -> bool:
    """Whether the configured sampler uses the ratio (so changing it at run time counts)."""
    return settings.traces_sampler in _RATIO_SAMPLERS


def build_sampler(
    settings: ObservabilitySettings, ratio: AdjustableRatioSampler | None = None
) -> Sampler:
    """Map ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` onto an SDK sampler.

    The ratio samplers decide through ``ratio`` (built from the settings when omitted), whose
    ratio `observability.runtime_controls` may change while the process runs.
    """
    ratio = ratio or AdjustableRatioSampler(settings.traces_sampler_ratio)
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
    ratio: AdjustableRatioSampler | None = None,
) -> tuple[TracerProvider, EncodingBatchSpanProcessor | None]:
    """A provider exporting in batches over OTLP, or synchronously to an injected test exporter.

    Also returns the OTLP batch processor, when there is one (`Telemetry` stops its exporter
    if the final flush runs out of time).
    """
    provider = TracerProvider(resource=resource, sampler=build_sampler(settings, ratio))
    if span_exporter is not None:
        # Tests read spans right after the request: export synchronously.
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    elif settings.traces_exporter == "otlp":
        # The stock OTLP/gRPC exporter with a faster encoder (observability.otlp), fed spans
        # encoded as they end (observability.otlp_batch).
        from observability.otlp import LeanOTLPSpanExporter  # noqa: PLC0415
        from observability.otlp_batch import EncodingBatchSpanProcessor  # noqa: PLC0415

        processor = EncodingBatchSpanProcessor(
            LeanOTLPSpanExporter(endpoint=settings.otlp_endpoint)
        )
        provider.add_span_processor(processor)
        return provider, processor
    elif settings.traces_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider, None


def drops_children_of_unsampled(settings: ObservabilitySettings) -> bool:
    """Whether the sampler is parent-based: a span inside an unsampled trace is never recorded.

    The contrib instrumentations build a span's attributes before the sampler drops it; under
    such a sampler the library's SQLAlchemy, httpx and Redis integrations skip that work for
    calls made `in_unsampled_trace`.
    """
    return settings.traces_sampler.startswith("parentbased_")


def in_unsampled_trace() -> bool:
    """Whether the current span belongs to a trace that was decided not to be sampled."""
    context = trace.get_current_span().get_span_context()
    return context.is_valid and not context.trace_flags.sampled
