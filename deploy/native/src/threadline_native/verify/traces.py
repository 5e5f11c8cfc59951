"""Trace links: each journey's trace is stored whole, Kafka hop included.

Natively Jaeger is the one trace store; under compose the collector also feeds Tempo, and both
must hold the trace.
"""

from __future__ import annotations

from collections.abc import Callable

from threadline_native.verify import jaeger, tempo
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.journeys import Journey
from threadline_native.verify.result import Result, eventually, guarded

Lookup = Callable[[Endpoints, str], set[str]]


def _jaeger_services(endpoints: Endpoints, trace_id: str) -> set[str]:
    return jaeger.services(jaeger.fetch_trace(endpoints, trace_id))


def trace_stores(mode: Mode) -> dict[str, Lookup]:
    """The stores that must hold every trace in this mode, and how to ask each one."""
    stores: dict[str, Lookup] = {"Jaeger": _jaeger_services}
    if mode is Mode.COMPOSE:
        stores = {"Tempo": tempo.services, **stores}
    return stores


def trace_in_stores(
    endpoints: Endpoints, mode: Mode, journey: Journey, timeout: float
) -> list[Result]:
    """The trace is in every store, with spans from every service the journey went through."""
    return [
        _trace_in(endpoints, store, lookup, journey, timeout)
        for store, lookup in trace_stores(mode).items()
    ]


def _trace_in(
    endpoints: Endpoints, store: str, lookup: Lookup, journey: Journey, timeout: float
) -> Result:
    check, expected = f"trace in {store}", set(journey.services)

    def run() -> Result:
        found = eventually(
            lambda: lookup(endpoints, journey.trace_id), lambda s: expected <= s, timeout
        )
        missing = expected - found
        detail = f"spans from {', '.join(sorted(found)) or 'no service'}"
        return Result.judged(
            check,
            journey.name,
            not missing,
            detail + (f"; none from {', '.join(sorted(missing))}" if missing else ""),
        )

    return guarded(check, journey.name, run)


def kafka_hop_spans(trace: jaeger.Trace | None) -> tuple[list[jaeger.Span], list[jaeger.Span]]:
    """(order's producer spans, user's consumer spans) of a trace."""
    found = jaeger.spans(trace) if trace else []
    producers = [s for s in found if s.service == "order" and s.kind == "producer"]
    consumers = [s for s in found if s.service == "user" and s.kind == "consumer"]
    return producers, consumers


def kafka_hop(endpoints: Endpoints, journey: Journey, timeout: float) -> Result:
    """The outbox relay's producer span (order) and the consumer's span (user) share the trace."""
    check = "Kafka hop in the trace (Jaeger)"

    def run() -> Result:
        trace = eventually(
            lambda: jaeger.fetch_trace(endpoints, journey.trace_id),
            lambda t: all(kafka_hop_spans(t)),
            timeout,
        )
        producers, consumers = kafka_hop_spans(trace)
        if producers and consumers:
            detail = (
                f"order '{producers[0].name}' (producer) -> user '{consumers[0].name}' (consumer)"
            )
            return Result.judged(check, journey.name, True, detail)
        lacking = [
            what
            for what, spans in (
                ("a producer span from order", producers),
                ("a consumer span from user", consumers),
            )
            if not spans
        ]
        return Result.judged(check, journey.name, False, "no " + " and no ".join(lacking))

    return guarded(check, journey.name, run)
