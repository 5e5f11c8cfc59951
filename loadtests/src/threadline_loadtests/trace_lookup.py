"""Whether a run's slow traces reached Tempo, and which services' spans they hold.

A trace id in a report is only worth something if the trace can be opened. After a run, the
report asks Tempo for the slowest sampled trace of each request name and lists the services
whose spans it found: `threadline-loadtests, order, user` is a request followed from the
load generator through both services.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["TraceLookup", "find_traces"]


@dataclass(frozen=True, slots=True)
class TraceLookup:
    trace_id: str
    # Service names with spans in the trace, sorted; empty when Tempo does not have it.
    services: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.services)


def _services(trace: dict[str, Any]) -> tuple[str, ...]:
    names = set()
    # Tempo answers OTLP JSON: `batches` (older) or `resourceSpans`.
    for batch in trace.get("batches", []) + trace.get("resourceSpans", []):
        for attribute in batch.get("resource", {}).get("attributes", []):
            if attribute.get("key") == "service.name":
                names.add(str(attribute.get("value", {}).get("stringValue", "")))
    return tuple(sorted(name for name in names if name))


def find_traces(
    tempo_url: str,
    trace_ids: Iterable[str],
    *,
    wait_seconds: float = 20.0,
    poll_seconds: float = 2.0,
    transport: httpx.BaseTransport | None = None,
) -> list[TraceLookup] | None:
    """Look the traces up, polling while spans may still be on their way; None without Tempo.

    Spans leave the services in batches (every few seconds) and pass the collector first, so
    a trace from the last seconds of a run can take a while to be queryable.
    """
    wanted = list(dict.fromkeys(trace_ids))
    pending = list(wanted)
    found: dict[str, tuple[str, ...]] = {}
    deadline = time.monotonic() + wait_seconds
    with httpx.Client(base_url=tempo_url, timeout=3.0, transport=transport) as tempo:
        try:
            if tempo.get("/ready").status_code != 200:
                return None
        except httpx.HTTPError:
            return None
        while pending:
            for trace_id in list(pending):
                try:
                    answer = tempo.get(f"/api/traces/{trace_id}")
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    found[trace_id] = _services(answer.json())
                    pending.remove(trace_id)
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
    return [TraceLookup(trace_id, found.get(trace_id, ())) for trace_id in wanted]
