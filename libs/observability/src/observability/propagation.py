"""W3C trace-context propagation over the carriers Threadline uses: HTTP, gRPC, Kafka headers.

The global propagator (``OTEL_PROPAGATORS``, W3C ``traceparent``/``tracestate`` and baggage by
default) does the encoding; these helpers only adapt the carriers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opentelemetry import propagate

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = ["extract_from_pairs", "inject_pairs", "propagation_fields"]


def propagation_fields() -> frozenset[str]:
    """Header names the configured propagator reads (``traceparent``, ``tracestate``...)."""
    return frozenset(propagate.get_global_textmap().fields)


def extract_from_pairs(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> Context:
    """Context from (name, value) pairs as found in ASGI scopes, gRPC metadata or Kafka headers."""
    fields = propagation_fields()
    carrier: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        name = name.lower()
        if name in fields and name not in carrier:
            carrier[name] = (
                raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            )
    return propagate.extract(carrier)


def inject_pairs(context: Context | None = None) -> list[tuple[str, str]]:
    """The propagation headers for ``context`` (the current one by default) as pairs."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return list(carrier.items())
