"""CPU per request over the measured stretch: the generator's own, and the stack's components."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from threadline_loadtests.cpu_cost import CpuSnapshot
from threadline_loadtests.cpu_window import LOAD_GENERATOR, CpuWindow, WindowSnapshots


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


def test_the_generator_pays_only_for_the_stretch_between_open_and_close() -> None:
    clock = Clock()
    window = CpuWindow(process_time=clock)

    clock.seconds += 7.0  # starting, spawning: before the window
    window.open()
    clock.seconds += 2.0
    window.close(requests=4000)
    clock.seconds += 3.0  # stopping, writing reports: after it

    assert window.ms_per_request == {LOAD_GENERATOR: 0.5}


def test_a_window_without_requests_or_never_opened_has_no_figures() -> None:
    window = CpuWindow(process_time=Clock())
    window.close(requests=100)
    assert window.ms_per_request == {}

    window.open()
    window.close(requests=0)
    assert window.ms_per_request == {}


def test_reopening_starts_over() -> None:
    clock = Clock()
    window = CpuWindow(process_time=clock)
    window.open()
    clock.seconds += 50.0  # spent before statistics were reset again
    window.open()
    clock.seconds += 1.0
    window.close(requests=1000)

    assert window.ms_per_request == {LOAD_GENERATOR: 1.0}


def snapshots(*seconds: float) -> Iterator[CpuSnapshot]:
    for used in seconds:
        yield CpuSnapshot({"order service": used, "postgresql": used / 4})


def test_the_driver_snapshots_the_stack_at_the_marked_ends(tmp_path: Path) -> None:
    marks = tmp_path / "cpu-window.marks"
    taken = snapshots(1.0, 10.0, 16.0)  # a first stretch, reset, then the measured one
    window = CpuWindow(marks_file=marks, process_time=Clock())

    with WindowSnapshots(marks, take_snapshot=lambda: next(taken), poll_seconds=60) as stack:
        window.open()
        window.open()  # Locust reset its statistics again: measure from here
        window.close(requests=2000)

    # 6 s of order service and 1.5 s of PostgreSQL over 2000 requests.
    assert stack.ms_per_request() == {"order service": 3.0, "postgresql": 0.75}


def test_no_figures_without_a_closed_stretch_or_from_a_half_written_line(tmp_path: Path) -> None:
    marks = tmp_path / "cpu-window.marks"
    taken = snapshots(1.0, 2.0)

    with WindowSnapshots(marks, take_snapshot=lambda: next(taken), poll_seconds=60) as stack:
        marks.write_text("open\nclose 10")  # the close line is not finished

    assert stack.ms_per_request() == {}
