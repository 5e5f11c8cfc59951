"""ShutdownCoordinator: not ready first, drain steps in order within the grace, flush last."""

from __future__ import annotations

import asyncio
import os
import signal

from observability.health import HealthRegistry
from observability.lifecycle import ShutdownCoordinator


async def test_steps_run_in_order_after_readiness_turns_false() -> None:
    health = HealthRegistry()
    health.mark_started()
    coordinator = ShutdownCoordinator(health, grace_seconds=5)
    events: list[str] = []

    async def stop_accepting(_left: float) -> None:
        events.append(f"stop accepting (ready={(await health.readiness()).ok})")

    async def drain_consumer(_left: float) -> None:
        events.append("drain consumer")

    async def flush(_left: float) -> None:
        events.append("flush")

    coordinator.on_flush("telemetry", flush)
    coordinator.on_drain("http", stop_accepting)
    coordinator.on_drain("kafka", drain_consumer)

    await coordinator.shutdown()
    await coordinator.shutdown()  # idempotent

    assert events == ["stop accepting (ready=False)", "drain consumer", "flush"]


async def test_a_step_that_overruns_the_grace_is_cut_and_the_rest_still_runs() -> None:
    coordinator = ShutdownCoordinator(HealthRegistry(), grace_seconds=0.1, flush_seconds=1)
    events: list[str] = []

    async def stuck(_left: float) -> None:
        await asyncio.sleep(30)

    async def failing(_left: float) -> None:
        raise RuntimeError("consumer already closed")

    async def flush(left: float) -> None:
        events.append(f"flush with {left:.0f}s")

    coordinator.on_drain("stuck", stuck)
    coordinator.on_drain("failing", failing)
    coordinator.on_flush("telemetry", flush)

    async with asyncio.timeout(2):
        await coordinator.shutdown()

    assert events == ["flush with 1s"]


async def test_sigterm_requests_shutdown_instead_of_killing_the_process() -> None:
    health = HealthRegistry()
    coordinator = ShutdownCoordinator(health)
    coordinator.install_signal_handlers()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(2):
            await coordinator.wait_for_shutdown_request()
    finally:
        coordinator.remove_signal_handlers()

    assert health.draining
