"""Graceful shutdown: SIGTERM -> not ready -> stop new work -> drain -> flush telemetry -> exit 0.

The coordinator owns SIGTERM and SIGINT for the process. On the first signal it turns readiness
false (so /readyz and gRPC health answer NOT_SERVING at once), waits the optional drain delay
for load balancers to notice, then runs the registered drain steps *in registration order*, each
bounded by what is left of the grace period, and finally the flush steps. A second signal during
the drain is ignored rather than killing the process mid-flush.

It owns SIGHUP too, the conventional "re-read your configuration": the callbacks registered
with `on_reload` run, in order, each time it arrives (`Telemetry` registers
`observability.runtime_controls.RuntimeControls.reload`). Without a handler SIGHUP would
terminate the process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from observability.health import HealthRegistry

__all__ = ["DrainStep", "ShutdownCoordinator"]

_log = logging.getLogger(__name__)

ReloadCallback = Callable[[], object]
"""Called on SIGHUP; reports its own outcome (an exception is logged and the next runs)."""

DrainCallback = Callable[[float], Awaitable[object]]
"""Called with the seconds left in the grace period; should stop new work, then finish old."""


@dataclass(frozen=True, slots=True)
class DrainStep:
    name: str
    callback: DrainCallback


class ShutdownCoordinator:
    """Runs the shutdown sequence once, on a signal or on `request_shutdown`."""

    def __init__(
        self,
        health: HealthRegistry,
        *,
        grace_seconds: float = 20.0,
        drain_delay_seconds: float = 0.0,
        flush_seconds: float = 5.0,
    ) -> None:
        self._health = health
        self._grace_seconds = grace_seconds
        self._drain_delay_seconds = drain_delay_seconds
        self._flush_seconds = flush_seconds
        self._drain_steps: list[DrainStep] = []
        self._flush_steps: list[DrainStep] = []
        self._requested = asyncio.Event()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._reload_steps: list[tuple[str, ReloadCallback]] = []
        self._installed: list[signal.Signals] = []

    @property
    def shutdown_requested(self) -> bool:
        return self._requested.is_set()

    def on_drain(self, name: str, callback: DrainCallback) -> None:
        """Add a drain step, e.g. ``lambda left: server.stop(left)`` for a grpc.aio server."""
        self._drain_steps.append(DrainStep(name, callback))

    def on_flush(self, name: str, callback: DrainCallback) -> None:
        """Add a step that runs after every drain step (telemetry flush goes here)."""
        self._flush_steps.append(DrainStep(name, callback))

    def on_reload(self, name: str, callback: ReloadCallback) -> None:
        """Add a step that runs on every SIGHUP (or `reload`), e.g. re-reading settings."""
        self._reload_steps.append((name, callback))

    def install_signal_handlers(
        self,
        *,
        signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT),
        reload_signals: tuple[signal.Signals, ...] = (signal.SIGHUP,),
    ) -> None:
        """Route ``signals`` to `request_shutdown` and ``reload_signals`` to `reload`."""
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, self.request_shutdown, sig.name)
            self._installed.append(sig)
        for sig in reload_signals:
            loop.add_signal_handler(sig, self.reload, sig.name)
            self._installed.append(sig)

    def reload(self, reason: str = "requested") -> None:
        """Run every reload step now, in registration order."""
        _log.info("reload requested", extra={"reload.reason": reason})
        for name, callback in self._reload_steps:
            try:
                callback()
            except Exception:
                _log.exception("reload step failed", extra={"reload.step": name})

    def remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def request_shutdown(self, reason: str = "requested") -> None:
        """Start the sequence (idempotent): readiness turns false before this returns."""
        if self._requested.is_set():
            return
        _log.info("shutdown requested", extra={"shutdown.reason": reason})
        self._health.start_draining()
        self._requested.set()

    async def wait_for_shutdown_request(self) -> None:
        """Return once a signal arrived or `request_shutdown` was called."""
        await self._requested.wait()

    async def shutdown(self) -> None:
        """Run the drain and flush steps once; concurrent callers wait for the same run."""
        self.request_shutdown("shutdown called")
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self._run())
        await asyncio.shield(self._shutdown_task)

    async def _run(self) -> None:
        deadline = time.monotonic() + self._grace_seconds
        if self._drain_delay_seconds:
            await asyncio.sleep(min(self._drain_delay_seconds, self._grace_seconds))
        for step in self._drain_steps:
            await self._run_step(step, deadline)
        # Flushing gets its own budget: telemetry about a slow drain is the most useful kind.
        flush_deadline = max(deadline, time.monotonic() + self._flush_seconds)
        for step in self._flush_steps:
            await self._run_step(step, flush_deadline)

    @staticmethod
    async def _run_step(step: DrainStep, deadline: float) -> None:
        left = max(deadline - time.monotonic(), 0.0)
        started = time.monotonic()
        try:
            async with asyncio.timeout(left):
                await step.callback(left)
        except TimeoutError:
            _log.warning("drain step ran out of grace time", extra={"drain.step": step.name})
        except Exception:
            _log.exception("drain step failed", extra={"drain.step": step.name})
        else:
            _log.info(
                "drain step done",
                extra={
                    "drain.step": step.name,
                    "drain.seconds": round(time.monotonic() - started, 3),
                },
            )
