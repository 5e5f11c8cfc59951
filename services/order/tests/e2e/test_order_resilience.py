"""Both services as processes: the breaker while the user service is gone, SIGTERM mid-burst."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

pytestmark = pytest.mark.e2e


def create_request(key: str) -> order_pb2.CreateOrderRequest:
    return order_pb2.CreateOrderRequest(
        idempotency_key=key,
        lines=[order_pb2.CreateOrderLine(product_id="french-press", quantity=1)],
    )


async def test_the_breaker_fails_fast_while_the_user_service_is_down_and_recovers(
    launch_stack: Any,
) -> None:
    stack = launch_stack(
        order_env={"ORDER_BREAKER_FAILURE_THRESHOLD": "3", "ORDER_BREAKER_RESET_SECONDS": "1"}
    )
    user_id, token = stack.register("breaker@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        await orders.CreateOrder(create_request("before"), metadata=auth, timeout=5)

        assert stack.users.stop() == 0
        statuses, durations = [], []
        for attempt in range(6):
            started = time.perf_counter()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await orders.CreateOrder(
                    create_request(f"down-{attempt}"), metadata=auth, timeout=5
                )
            durations.append(time.perf_counter() - started)
            statuses.append(caught.value.code())
            info = error_details_pb2.ErrorInfo()
            status = rpc_status.from_call(caught.value)
            assert status is not None
            assert any(detail.Unpack(info) for detail in status.details)
            assert info.metadata["dependency"] == "user-service"
        assert set(statuses) == {grpc.StatusCode.UNAVAILABLE}
        # Three calls spend their retries, then the open circuit answers without waiting.
        assert max(durations[3:]) < 0.1
        assert stack.orders.metric("circuit_breaker_state", breaker="user-service") == 2
        assert stack.orders.metric("circuit_breaker_rejections_total", breaker="user-service") >= 3
        assert (
            stack.orders.metric("http_client_retries_total", peer="user-service", reason="connect")
            >= 6
        )

        stack.users.start()
        await asyncio.sleep(1.1)  # the breaker's reset time: the next call is the trial
        created = await orders.CreateOrder(create_request("after"), metadata=auth, timeout=5)
        assert created.order.user_id == str(user_id)
        assert stack.orders.metric("circuit_breaker_state", breaker="user-service") == 0


async def test_sigterm_mid_burst_completes_rpcs_in_flight_and_loses_or_doubles_no_event(
    launch_stack: Any,
) -> None:
    stack = launch_stack()
    user_id, token = stack.register("burst@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    results: list[tuple[str, Any]] = []

    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)

        async def call(key: str) -> None:
            try:
                response = await orders.CreateOrder(create_request(key), metadata=auth, timeout=10)
                results.append((key, response.order))
            except grpc.aio.AioRpcError as error:
                results.append((key, error.code()))

        burst = [asyncio.create_task(call(f"burst-{n}")) for n in range(60)]
        await asyncio.sleep(0.15)  # some calls are now in flight
        assert stack.orders.process is not None
        stack.orders.process.send_signal(signal.SIGTERM)
        await asyncio.gather(*burst)
    assert stack.orders.process.wait(timeout=30) == 0
    # The consumer is stopped too, while it may be in the middle of the burst's events.
    assert stack.users.stop() == 0

    succeeded = {key: value for key, value in results if not isinstance(value, grpc.StatusCode)}
    refused = [value for _, value in results if isinstance(value, grpc.StatusCode)]
    # Accepted calls finished; calls that arrived after the drain began were refused as
    # UNAVAILABLE (safe to retry elsewhere) — none was cut off half-way.
    assert succeeded
    assert set(refused) <= {grpc.StatusCode.UNAVAILABLE}
    engine = create_async_engine(stack.orders_database_url)
    try:
        async with engine.connect() as connection:
            stored = set((await connection.execute(text("SELECT id::text FROM orders"))).scalars())
    finally:
        await engine.dispose()
    assert stored == {order.id for order in succeeded.values()}

    # Both come back: the relay publishes what was left, the consumer resumes from its
    # committed offsets, and every order counts exactly once.
    stack.users.start()
    stack.orders.start()
    expected = (len(succeeded), sum(order.total.minor_units for order in succeeded.values()))
    deadline = time.monotonic() + 60

    def stats() -> tuple[int, int]:
        user = stack.user(user_id, token)
        return user["order_count"], user["total_spent_cents"]

    while stats()[0] < expected[0]:
        assert time.monotonic() < deadline, f"statistics stuck at {stats()}, expected {expected}"
        await asyncio.sleep(0.3)
    await asyncio.sleep(2)  # anything applied twice would show by now
    assert stats() == expected
