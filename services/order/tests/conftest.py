"""Fixtures for the order service's tests: a fake user service and the real server, live.

The fake user service (order_service.testing) is an httpx transport: it publishes a JWKS for a
test signing key and answers `GET /v1/users/{id}` with the account's state. The integration
server is the real one (`order_service.main.build`) on a fresh, migrated database, reached
over a real gRPC channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Telemetry
from order_service.adapters.migrations import upgrade_to_head
from order_service.main import build
from order_service.settings import Settings
from order_service.testing import FakeUserService, RunningOrders, in_memory_telemetry
from threadline_contracts.order.v1 import order_pb2_grpc


@pytest.fixture
def user_service() -> FakeUserService:
    return FakeUserService()


@pytest.fixture
def telemetry() -> tuple[Telemetry, InMemorySpanExporter]:
    return in_memory_telemetry()


@pytest.fixture
def orders_settings_factory(database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "port": 0,
            "admin_enabled": False,
            "relay_enabled": False,
            "traces_sampler": "always_on",
            "user_service_url": "http://user.test",
            "user_check_backoff_initial_seconds": 0.001,
            "user_check_backoff_max_seconds": 0.005,
            "user_check_backoff_jitter_seconds": 0.001,
            **overrides,
        }
        return Settings(**values)

    return make


StartOrders = Callable[..., Awaitable[RunningOrders]]


@pytest_asyncio.fixture
async def start_orders(
    orders_settings_factory: Callable[..., Settings], user_service: FakeUserService
) -> AsyncIterator[StartOrders]:
    """A factory: `await start_orders(**settings)` runs the real server on a migrated database."""
    async with AsyncExitStack() as stack:
        migrated: set[str] = set()

        async def start(**overrides: Any) -> RunningOrders:
            settings = orders_settings_factory(**overrides)
            url = settings.database_url.get_secret_value()
            if url not in migrated:
                await asyncio.to_thread(upgrade_to_head, url)
                migrated.add(url)
            telemetry, spans = in_memory_telemetry()
            app = await build(
                settings,
                telemetry,
                stack,
                user_service_transport=httpx.MockTransport(user_service.handle),
            )
            telemetry.health.mark_started()
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
            stack.push_async_callback(channel.close)
            return RunningOrders(
                app=app,
                channel=channel,
                stub=order_pb2_grpc.OrderServiceStub(channel),
                telemetry=telemetry,
                spans=spans,
                settings=settings,
                user_service=user_service,
            )

        yield start


@pytest_asyncio.fixture
async def running_orders(
    start_orders: StartOrders, request: pytest.FixtureRequest
) -> RunningOrders:
    """The real order server (relay off); settings overrides by indirect parametrisation."""
    return await start_orders(**getattr(request, "param", {}))
