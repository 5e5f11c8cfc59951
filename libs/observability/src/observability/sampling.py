"""`AdjustableRatioSampler`: a trace-id ratio sampler whose ratio can change while spans start.

The SDK's `TraceIdRatioBased` fixes its ratio when it is built, and a `TracerProvider` keeps
its sampler for life. This sampler holds one `TraceIdRatioBased` and replaces it whole on
`set_ratio`: the swap is a single reference assignment, so a span starting in another thread
meanwhile is judged by the old ratio or by the new one, never by a mix of the two. Put inside
`ParentBased` (the default ``parentbased_traceidratio``) it decides root spans only, exactly as
the stock sampler did: a child still follows its parent's decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult, TraceIdRatioBased

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Link, SpanKind
    from opentelemetry.trace.span import TraceState
    from opentelemetry.util.types import Attributes

__all__ = ["AdjustableRatioSampler", "validate_ratio"]


def validate_ratio(ratio: float) -> float:
    """``ratio`` as a float when it is a number in 0..1; ValueError otherwise."""
    if isinstance(ratio, bool) or not isinstance(ratio, int | float):
        raise ValueError("must be a number from 0 to 1")
    if not math.isfinite(ratio) or not 0.0 <= ratio <= 1.0:
        raise ValueError("must be a number from 0 to 1")
    return float(ratio)


class AdjustableRatioSampler(Sampler):
    """Samples ``ratio`` of the trace ids, like `TraceIdRatioBased`; `set_ratio` changes it."""

    def __init__(self, ratio: float) -> None:
        self._delegate = TraceIdRatioBased(validate_ratio(ratio))

    @property
    def ratio(self) -> float:
        return float(self._delegate.rate)

    def set_ratio(self, ratio: float) -> float:
        """Sample ``ratio`` of the traces started from now on; return the ratio it replaced."""
        replacement = TraceIdRatioBased(validate_ratio(ratio))
        previous = self.ratio
        self._delegate = replacement
        return previous

    def should_sample(  # noqa: PLR0917 - the SDK's signature
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        # One read of the reference: the decision is made by one sampler from start to end.
        delegate = self._delegate
        return delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"AdjustableRatio{{{self.ratio}}}"
