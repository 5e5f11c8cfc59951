"""The garbage collector's pauses are observed by generation; the start-up heap is frozen once."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from observability.garbage_collector import GcPauses, freeze_startup_heap
from observability.testing import isolated_telemetry


def _count(registry: CollectorRegistry, generation: int) -> float:
    value = registry.get_sample_value(
        "python_gc_pause_seconds_count", {"generation": str(generation)}
    )
    return value or 0.0


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_each_collection_is_observed_under_its_generation() -> None:
    registry = CollectorRegistry()
    pauses = GcPauses(registry)
    pauses.install()
    try:
        before = [_count(registry, g) for g in range(3)]
        gc.collect(1)
        gc.collect(2)
        gc.collect(2)
        after = [_count(registry, g) for g in range(3)]
    finally:
        pauses.uninstall()
    # Generation 0 may also run on its own while the test allocates; 1 and 2 only when asked.
    assert after[0] >= before[0]
    assert after[1] - before[1] == 1
    assert after[2] - before[2] == 2
    total = registry.get_sample_value("python_gc_pause_seconds_sum", {"generation": "2"})
    assert total is not None
    assert total > 0


def test_an_uninstalled_hook_observes_nothing_and_installing_twice_observes_once() -> None:
    registry = CollectorRegistry()
    pauses = GcPauses(registry)
    pauses.install()
    pauses.install()
    gc.collect(2)
    assert _count(registry, 2) == 1
    pauses.uninstall()
    gc.collect(2)
    assert _count(registry, 2) == 1


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.mark.usefixtures("unfrozen")
def test_freezing_collects_garbage_first_then_exempts_what_is_alive() -> None:
    alive = _Node()
    cycle, partner = _Node(), _Node()
    cycle.other, partner.other = partner, cycle
    garbage = weakref.ref(cycle)
    del cycle, partner

    frozen = freeze_startup_heap()

    assert garbage() is None  # the dropped cycle was collected, not frozen
    assert frozen == gc.get_freeze_count() > 0
    assert any(o is alive for o in gc.get_objects()) is False  # moved out of the generations


@pytest.mark.usefixtures("unfrozen")
@pytest.mark.parametrize("enabled", [True, False])
def test_mark_started_freezes_the_heap_only_when_the_setting_says_so(enabled: bool) -> None:
    telemetry, _ = isolated_telemetry(gc_freeze=enabled)
    try:
        before = gc.get_freeze_count()
        telemetry.mark_started()
        assert (gc.get_freeze_count() > before) is enabled
        assert telemetry.health.started
    finally:
        telemetry.shutdown_sync()
