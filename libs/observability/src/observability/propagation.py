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


# (propagator, its fields): a composite propagator builds its field set anew on every read.
_fields: tuple[object, frozenset[str]] = (None, frozenset())


def propagation_fields() -> frozenset[str]:
    """Header names the configured propagator reads (``traceparent``, ``tracestate``...)."""
    global _fields  # noqa: PLW0603 - one cached value, re-read when the propagator changes
    textmap = propagate.get_global_textmap()
    if _fields[0] is not textmap:
        _fields = (textmap, frozenset(textmap.fields))
    return _fields[1]


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
