"""The adjustable ratio sampler: swapped at run time, with ParentBased semantics kept."""

from __future__ import annotations

import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from observability.sampling import AdjustableRatioSampler
from observability.settings import ObservabilitySettings
from observability.tracing import build_sampler

TRACE_IDS = range(1, 2**64, 2**54 + 12345)  # spread over the ratio sampler's 64-bit range


def _sampled(sampler: AdjustableRatioSampler | ParentBased) -> int:
    return sum(
        sampler.should_sample(None, trace_id, "span").decision is Decision.RECORD_AND_SAMPLE
        for trace_id in TRACE_IDS
    )


def test_the_ratio_changes_what_new_root_spans_are_sampled() -> None:
    sampler = AdjustableRatioSampler(1.0)
    total = len(TRACE_IDS)
    assert _sampled(sampler) == total

    assert sampler.set_ratio(0.0) == 1.0
    assert _sampled(sampler) == 0

    sampler.set_ratio(0.5)
    assert 0.4 * total < _sampled(sampler) < 0.6 * total


@pytest.mark.parametrize("ratio", [-0.01, 1.01, float("nan"), float("inf"), True, "0.5"])
def test_an_invalid_ratio_is_refused_and_the_old_one_kept(ratio: object) -> None:
    sampler = AdjustableRatioSampler(0.25)
    with pytest.raises(ValueError, match="from 0 to 1"):
        sampler.set_ratio(ratio)  # type: ignore[arg-type]
    assert sampler.ratio == 0.25


def test_parent_based_still_follows_a_sampled_parent_at_ratio_zero() -> None:
    ratio = AdjustableRatioSampler(1.0)
    sampler = build_sampler(ObservabilitySettings(), ratio)
    assert isinstance(sampler, ParentBased)
    ratio.set_ratio(0.0)
    parent = NonRecordingSpan(
        SpanContext(trace_id=7, span_id=9, is_remote=True, trace_flags=TraceFlags(1))
    )

    child = sampler.should_sample(set_span_in_context(parent), 7, "child")
    root = sampler.should_sample(None, 7, "root")

    assert child.decision is Decision.RECORD_AND_SAMPLE
    assert root.decision is Decision.DROP


def test_a_provider_built_from_settings_obeys_the_swap() -> None:
    ratio = AdjustableRatioSampler(1.0)
    provider = TracerProvider(sampler=build_sampler(ObservabilitySettings(), ratio))
    tracer = provider.get_tracer("test")

    assert tracer.start_span("before").is_recording()
    ratio.set_ratio(0.0)
    assert not tracer.start_span("after").is_recording()


def test_swapping_while_other_threads_sample_never_fails() -> None:
    sampler = AdjustableRatioSampler(0.5)
    errors: list[BaseException] = []
    stop = threading.Event()

    def sample() -> None:
        try:
            while not stop.is_set():
                _sampled(sampler)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sample) for _ in range(3)]
    for thread in threads:
        thread.start()
    for step in range(200):
        sampler.set_ratio(step % 2)
    stop.set()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sampler.ratio == 1.0
