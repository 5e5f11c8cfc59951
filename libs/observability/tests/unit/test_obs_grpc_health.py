"""grpc.health.v1 follows readiness: NOT_SERVING before start, SERVING, NOT_SERVING on drain."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from observability import Telemetry
from observability.grpc import add_health_servicer

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_grpc_health_follows_readiness(telemetry: Telemetry) -> None:
    server = grpc.aio.server()
    add_health_servicer(server, telemetry, services=["order.v1.OrderService"], poll_seconds=0.01)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = health_pb2_grpc.HealthStub(channel)

    async def status(service: str = "") -> int:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)

    async def eventually(expected: int) -> None:
        for _ in range(200):
            if await status() == expected and await status("order.v1.OrderService") == expected:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"health never became {expected}")

    try:
        await eventually(NOT_SERVING)
        telemetry.health.mark_started()
        await eventually(SERVING)
        telemetry.lifecycle.request_shutdown("test")
        await eventually(NOT_SERVING)
    finally:
        await channel.close()
        await server.stop(None)


async def test_grpc_health_is_not_serving_before_readiness_was_first_evaluated(
    telemetry: Telemetry,
) -> None:
    released = asyncio.Event()

    async def slow_database() -> None:
        await released.wait()

    telemetry.health.add_check("database", slow_database, timeout=30)
    server = grpc.aio.server()
    add_health_servicer(server, telemetry, services=["order.v1.OrderService"], poll_seconds=0.01)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", "order.v1.OrderService"):
                # Not NOT_FOUND: a probe must read "not yet", not "no such service".
                request = health_pb2.HealthCheckRequest(service=service)
                reply = await stub.Check(request, timeout=5)
                assert reply.status == NOT_SERVING
    finally:
        released.set()
        await server.stop(None)
