"""grpc.health.v1 that follows the process's readiness."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

if TYPE_CHECKING:
    from observability.telemetry import Telemetry

__all__ = ["add_health_servicer"]

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def add_health_servicer(
    server: grpc.aio.Server,
    telemetry: Telemetry,
    *,
    services: Iterable[str] = (),
    poll_seconds: float | None = None,
) -> health.aio.HealthServicer:
    """Register grpc.health.v1 on ``server``; its status mirrors /readyz.

    The overall status ("") and each name in ``services`` are SERVING while readiness passes,
    NOT_SERVING before startup, when a critical check fails, and from the moment draining
    starts. Readiness is re-evaluated every ``poll_seconds`` (the health cache time by default).
    """
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    names = ("", *services)
    interval = poll_seconds or max(telemetry.settings.health_cache_seconds, 0.5)

    async def publish(serving: bool) -> None:
        for name in names:
            await servicer.set(name, _SERVING if serving else _NOT_SERVING)

    async def follow_readiness() -> None:
        # The stock servicer starts with "" SERVING and the named services unknown (NOT_FOUND):
        # until readiness has been evaluated once, say "not yet" for all of them.
        await publish(False)
        while not telemetry.health.draining:
            report = await telemetry.health.readiness()
            await publish(report.ok)
            await asyncio.sleep(interval)

    pending: set[asyncio.Task[None]] = set()

    def on_draining(_ready: bool) -> None:
        # Readiness flipped synchronously; publish NOT_SERVING on the loop's next turn.
        follower.cancel()
        task = asyncio.get_running_loop().create_task(publish(False))
        pending.add(task)  # the loop keeps only a weak reference to tasks
        task.add_done_callback(pending.discard)

    follower = asyncio.get_running_loop().create_task(follow_readiness())
    telemetry.health.add_listener(on_draining)

    async def stop_following(_left: float) -> None:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await publish(False)

    telemetry.lifecycle.on_drain("grpc health", stop_following)
    return servicer
