"""The slowest requests of a run, per request name, with the trace ids to open them by."""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SlowRequest", "SlowestRequests"]


@dataclass(frozen=True, slots=True, order=True)
class SlowRequest:
    response_time_ms: float
    trace_id: str = field(compare=False)
    sampled: bool = field(compare=False)
    failed: bool = field(compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlowRequest:
        return cls(
            response_time_ms=float(data["response_time_ms"]),
            trace_id=str(data["trace_id"]),
            sampled=bool(data["sampled"]),
            failed=bool(data["failed"]),
        )


class SlowestRequests:
    """Keeps the `per_name` slowest requests of every request name, and of the sampled ones.

    A min-heap per name holds the current top N, so recording costs O(log N) and memory stays
    bounded however long the run. Sampled requests get a second top N: those are the traces a
    reader can actually open in Jaeger (or Tempo) when the run samples less than everything.
    """

    def __init__(self, per_name: int = 5) -> None:
        if per_name < 1:
            raise ValueError("keep at least one slow request per name")
        self.per_name = per_name
        self._all: dict[str, list[SlowRequest]] = {}
        self._sampled: dict[str, list[SlowRequest]] = {}

    def record(
        self, name: str, response_time_ms: float, *, trace_id: str, sampled: bool, failed: bool
    ) -> None:
        request = SlowRequest(response_time_ms, trace_id, sampled, failed)
        self._push(self._all.setdefault(name, []), request)
        if sampled:
            self._push(self._sampled.setdefault(name, []), request)

    def _push(self, heap: list[SlowRequest], request: SlowRequest) -> None:
        if len(heap) < self.per_name:
            heapq.heappush(heap, request)
        elif request > heap[0]:
            heapq.heapreplace(heap, request)

    def slowest(self, name: str, *, sampled_only: bool = False) -> list[SlowRequest]:
        """Slowest first."""
        heaps = self._sampled if sampled_only else self._all
        return sorted(heaps.get(name, []), reverse=True)

    def names(self) -> list[str]:
        return sorted(self._all)

    def reset(self) -> None:
        self._all.clear()
        self._sampled.clear()

    def to_dict(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return {
            name: {
                "all": [asdict(request) for request in self.slowest(name)],
                "sampled": [asdict(request) for request in self.slowest(name, sampled_only=True)],
            }
            for name in self.names()
        }
