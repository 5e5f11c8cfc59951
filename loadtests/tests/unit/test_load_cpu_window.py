"""CPU per request over the measured stretch: the generator's own, and the stack's components."""

from __future__ import annotations

from threadline_loadtests.cpu_cost import CpuSnapshot
from threadline_loadtests.cpu_window import LOAD_GENERATOR, CpuWindow


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


def test_the_components_are_snapshotted_at_both_ends() -> None:
    clock = Clock()
    snapshots = iter(
        [
            CpuSnapshot({"order service": 10.0, "postgresql": 1.0}),
            CpuSnapshot({"order service": 16.0, "postgresql": 1.5}),
        ]
    )
    window = CpuWindow(
        with_components=True, process_time=clock, take_snapshot=lambda: next(snapshots)
    )

    window.open()
    clock.seconds += 1.0
    window.close(requests=2000)

    assert window.ms_per_request == {
        LOAD_GENERATOR: 0.5,
        "order service": 3.0,
        "postgresql": 0.25,
    }


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
