"""Whether a run's slow traces reached the trace store, and which services' spans they hold.

A trace id in a report is only worth something if the trace can be opened. After a run, the
report asks the trace store for the slowest sampled trace of each request name and lists the
services whose spans it found: `threadline-loadtests, order, user` is a request followed from
the load generator through both services.

The store is recognised by how it answers: Jaeger (it runs in both modes, and natively it is
the only trace store) answers `/api/services`; Tempo (compose only) answers `/ready`. Give
`find_traces` either one's base URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["TraceLookup", "find_traces"]


@dataclass(frozen=True, slots=True)
class TraceLookup:
    trace_id: str
    # Service names with spans in the trace, sorted; empty when the store does not have it.
    services: tuple[str, ...]
    # The store that was asked: "Jaeger" or "Tempo".
    store: str = ""

    @property
    def found(self) -> bool:
        return bool(self.services)


def _tempo_services(trace: dict[str, Any]) -> tuple[str, ...]:
    names = set()
    # Tempo answers OTLP JSON: `batches` (older) or `resourceSpans`.
    for batch in trace.get("batches", []) + trace.get("resourceSpans", []):
        for attribute in batch.get("resource", {}).get("attributes", []):
            if attribute.get("key") == "service.name":
                names.add(str(attribute.get("value", {}).get("stringValue", "")))
    return tuple(sorted(name for name in names if name))


def _jaeger_services(answer: dict[str, Any]) -> tuple[str, ...]:
    names = set()
    # Jaeger answers {"data": [trace]}; a span names its service through its process.
    for trace in answer.get("data") or []:
        processes = trace.get("processes", {})
        for span in trace.get("spans", []):
            names.add(str(processes.get(span.get("processID"), {}).get("serviceName", "")))
    return tuple(sorted(name for name in names if name))


@dataclass(frozen=True, slots=True)
class _Store:
    name: str
    services: Callable[[dict[str, Any]], tuple[str, ...]]


_JAEGER = _Store("Jaeger", _jaeger_services)
_TEMPO = _Store("Tempo", _tempo_services)


def _recognise(store: httpx.Client) -> _Store | None:
    """Jaeger, Tempo, or None when nothing answers at the URL."""
    try:
        if store.get("/api/services").status_code == 200:
            return _JAEGER
        if store.get("/ready").status_code == 200:
            return _TEMPO
    except httpx.HTTPError:
        return None
    return None


def find_traces(
    store_url: str,
    trace_ids: Iterable[str],
    *,
    wait_seconds: float = 20.0,
    poll_seconds: float = 2.0,
    transport: httpx.BaseTransport | None = None,
) -> list[TraceLookup] | None:
    """Look the traces up, polling while spans may still be on their way; None without a store.

    Spans leave the services in batches (every few seconds) and pass the collector first, so
    a trace from the last seconds of a run can take a while to be queryable.
    """
    wanted = list(dict.fromkeys(trace_ids))
    pending = list(wanted)
    found: dict[str, tuple[str, ...]] = {}
    deadline = time.monotonic() + wait_seconds
    with httpx.Client(base_url=store_url, timeout=3.0, transport=transport) as client:
        kind = _recognise(client)
        if kind is None:
            return None
        while pending:
            for trace_id in list(pending):
                try:
                    answer = client.get(f"/api/traces/{trace_id}")
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    found[trace_id] = kind.services(answer.json())
                    pending.remove(trace_id)
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
    return [TraceLookup(trace_id, found.get(trace_id, ()), kind.name) for trace_id in wanted]
