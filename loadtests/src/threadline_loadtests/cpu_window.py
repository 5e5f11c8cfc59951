"""CPU time over the measured stretch of a run, per request: the generator's and the stack's.

A run is measured from the moment its statistics are last reset (every user runs) to the
moment it starts stopping. CPU used outside that stretch (starting Python and Locust,
spawning users, writing reports) is not what a request costs, and spread over the requests
of a short step it would dwarf what they do cost. So the Locust process marks the stretch
itself: it reads its own CPU time (every thread: gevent's pool, grpcio's) at both ends, and
appends a line to a marks file the benchmark's driver watches (`WindowSnapshots`), which then
snapshots each stack component (cpu_cost). The snapshots run in the driver, not in Locust:
they fork `ss` and read /proc, and a load generator that stalls for that would put its own
pause into the latencies it measures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from threadline_loadtests.cpu_cost import CpuSnapshot, cpu_by_component, snapshot

__all__ = ["LOAD_GENERATOR", "CpuWindow", "WindowSnapshots"]

# The load generator's own share, kept apart from the system's components.
LOAD_GENERATOR = "load generator (Locust)"
OPEN, CLOSE = "open", "close"


@dataclass
class CpuWindow:
    """Open it when measuring starts, close it when it ends; then CPU ms per request."""

    # Where each end of the stretch is announced (`open`, `close <requests>`); None: nowhere.
    marks_file: Path | None = None
    process_time: Callable[[], float] = time.process_time
    _opened_at: float | None = None
    ms_per_request: dict[str, float] = field(default_factory=dict)

    def open(self) -> None:
        """Start (or restart) the window now."""
        self.ms_per_request = {}
        self._opened_at = self.process_time()
        self._mark(OPEN)

    def close(self, *, requests: int) -> None:
        """End the window; `requests` is how many the generator sent within it."""
        if self._opened_at is None or requests <= 0:
            return
        generator_seconds = self.process_time() - self._opened_at
        self.ms_per_request = {LOAD_GENERATOR: generator_seconds * 1000 / requests}
        self._opened_at = None
        self._mark(f"{CLOSE} {requests}")

    def _mark(self, line: str) -> None:
        if self.marks_file is not None:
            with self.marks_file.open("a") as marks:
                marks.write(line + "\n")


class WindowSnapshots:
    """Snapshots the stack's components at the ends a Locust run marks (a thread, polling).

    A snapshot lands within `poll_seconds` (plus its own duration) of the mark: on a 40 s
    stretch, well under one percent of it.
    """

    def __init__(
        self,
        marks_file: Path,
        *,
        take_snapshot: Callable[[], CpuSnapshot] = snapshot,
        poll_seconds: float = 0.1,
    ) -> None:
        self.marks_file = marks_file
        self._take_snapshot = take_snapshot
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cpu-window", daemon=True)
        self._lines_seen = 0
        self._before: CpuSnapshot | None = None
        self._costs: dict[str, float] = {}

    def __enter__(self) -> WindowSnapshots:
        self.marks_file.unlink(missing_ok=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._read_marks()  # a close written just before the run ended

    def ms_per_request(self) -> dict[str, float]:
        """Each component's CPU ms per request over the last complete stretch; {} if none."""
        return dict(self._costs)

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self._read_marks()

    def _read_marks(self) -> None:
        try:
            text = self.marks_file.read_text()
        except FileNotFoundError:
            return
        # Complete lines only: the generator may be halfway through writing the last one.
        lines = text[: text.rfind("\n") + 1].splitlines()
        for line in lines[self._lines_seen :]:
            what, _, requests = line.partition(" ")
            if what == OPEN:
                self._before = self._take_snapshot()
            elif what == CLOSE and self._before is not None:
                self._costs = cpu_by_component(
                    self._before, self._take_snapshot(), requests=int(requests)
                )
        self._lines_seen = len(lines)
