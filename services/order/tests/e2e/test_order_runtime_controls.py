"""Fault flags and runtime controls on a real order-service process, over its admin port.

A flag on an RPC fails it with UNAVAILABLE saying the fault was injected (ErrorInfo
INJECTED_FAULT in the status details) or slows it, leaves the other RPCs alone and expires by its
TTL; DEBUG turns on at run time; sampling 0 stops the order service's spans; SIGHUP re-reads
the env file.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_testing.telemetry_sink import TelemetrySink

CREATE = "/order.v1.OrderService/CreateOrder"
LIST = "/order.v1.OrderService/ListOrders"


def _admin(stack: Any) -> str:
    return str(stack.orders.ready_url.removesuffix("/readyz"))


def _fault(stack: Any, **fields: Any) -> dict[str, Any]:
    body = {"target": CREATE, "error_ratio": 1.0, "latency_ms": 0, "ttl_seconds": 60}
    response = httpx.post(
        f"{_admin(stack)}/admin/faults", json={**body, **fields, "actor": "e2e"}, timeout=5
    )
    assert response.status_code == 201, response.text
    fault: dict[str, Any] = response.json()
    return fault


def _create(key: str) -> order_pb2.CreateOrderRequest:
    return order_pb2.CreateOrderRequest(
        idempotency_key=key,
        lines=[order_pb2.CreateOrderLine(product_id="milk-frother", quantity=1)],
    )


async def test_a_fault_fails_its_rpc_with_injected_unavailable_then_expires(
    launch_stack: Any,
) -> None:
    stack = launch_stack()
    _, token = stack.register("faulted@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    fault = _fault(stack, ttl_seconds=2)
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        try:
            await orders.CreateOrder(_create("faulted"), metadata=auth, timeout=10)
            raise AssertionError("CreateOrder was not faulted")
        except grpc.aio.AioRpcError as error:
            failure = error
        listed = await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)

        await asyncio.sleep(2.5)  # past the TTL: the timer has removed the flag
        created = await orders.CreateOrder(_create("after"), metadata=auth, timeout=10)

    assert failure.code() is grpc.StatusCode.UNAVAILABLE
    assert "injected fault" in (failure.details() or "")
    status = rpc_status.from_call(failure)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.metadata["fault_id"]) == ("INJECTED_FAULT", fault["id"])
    assert list(listed.orders) == []
    assert created.order.id
    assert "fault flag expired" in stack.orders.log()
    assert stack.orders.metric("fault_injections_total", target=CREATE, kind="error") == 1
    assert stack.orders.metric("fault_flags_active") == 0


async def test_ratio_and_latency_hold_on_real_rpcs_and_clear_removes_them(
    launch_stack: Any,
) -> None:
    stack = launch_stack()
    _, token = stack.register("ratio@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    _fault(stack, target=LIST, error_ratio=0.5)
    codes = []
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        for _ in range(200):
            try:
                await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as error:
                codes.append(error.code())
        async with httpx.AsyncClient(base_url=_admin(stack), timeout=5) as admin:
            first_clear = (await admin.delete("/admin/faults")).json()
            _fault(stack, target="*", error_ratio=0.0, latency_ms=300)
            started = time.perf_counter()
            await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
            slowed = time.perf_counter() - started
            cleared = (await admin.delete("/admin/faults")).json()
        started = time.perf_counter()
        await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
        after = time.perf_counter() - started

    failed = codes.count(grpc.StatusCode.UNAVAILABLE)
    # Binomial(200, 0.5): 60..140 is more than 5 standard deviations either side.
    assert 60 <= failed <= 140, failed
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
    assert slowed >= 0.3
    assert first_clear == cleared == {"cleared": 1}
    assert after < 0.3


async def test_debug_and_sampling_change_at_run_time(
    launch_stack: Any, telemetry_sink: TelemetrySink
) -> None:
    stack = launch_stack(
        keep_spans=True,
        order_env={"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"},
    )
    _, token = stack.register("controls@example.com")
    auth = (("authorization", f"Bearer {token}"),)

    def order_spans() -> int:
        return sum(
            s.service == "order" and s.name == "order.v1.OrderService/ListOrders"
            for s in telemetry_sink.kept_spans(stack.telemetry)
        )

    def debug_lines() -> int:
        log: str = stack.orders.log()
        return log.count('"level":"DEBUG"')

    async with (
        grpc.aio.insecure_channel(stack.grpc_target) as channel,
        httpx.AsyncClient(base_url=_admin(stack), timeout=5) as admin,
    ):
        orders = order_pb2_grpc.OrderServiceStub(channel)
        await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
        assert debug_lines() == 0
        debug = await admin.put("/admin/log-level", json={"level": "DEBUG"})
        # A new account: its first order checks the user service (httpcore logs at DEBUG).
        await orders.CreateOrder(_create("debug"), metadata=auth, timeout=10)
        assert debug_lines() > 0

        off = await admin.put("/admin/sampling", json={"ratio": 0})
        for _ in range(10):
            await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
        await admin.put("/admin/sampling", json={"ratio": 1})
        await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)

    deadline = time.monotonic() + 10
    while order_spans() < 2 and time.monotonic() < deadline:  # noqa: ASYNC110 - polls a sink
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    assert debug.json()["previous"] == "INFO"
    assert off.json() == {
        "sampler": "parentbased_traceidratio",
        "ratio": 0.0,
        "adjustable": True,
        "previous": 1.0,
    }
    # One before sampling 0, one after sampling 1.0; none of the ten between.
    assert order_spans() == 2


def test_sighup_rereads_the_env_file(launch_stack: Any, tmp_path: Path) -> None:
    env_file = tmp_path / "order.env"
    env_file.write_text("ORDER_LOG_LEVEL=INFO\n")
    stack = launch_stack(order_env={"ORDER_ENV_FILE": str(env_file)})
    admin = _admin(stack)

    env_file.write_text("ORDER_LOG_LEVEL=ERROR\n")
    assert stack.orders.process is not None
    stack.orders.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while httpx.get(f"{admin}/admin/log-level", timeout=5).json()["level"] != "ERROR":
        assert time.monotonic() < deadline, "SIGHUP did not apply the env file"
        time.sleep(0.05)

    assert stack.orders.process.poll() is None
    assert '"change.actor":"SIGHUP"' in stack.orders.log()
