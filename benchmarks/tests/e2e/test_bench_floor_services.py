"""The framework floor answers what the journeys ask, and CreateOrder really calls the HTTP side."""

from __future__ import annotations

import contextlib

import grpc
import httpx
import pytest

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_loadtests.stub_services import USER, running_stand_in
from threadline_native.net import free_port

pytestmark = pytest.mark.e2e


def floor_service(*args: str) -> contextlib.AbstractContextManager[None]:
    return running_stand_in("threadline_benchmarks.load.floor_services", *args)


def orders_at(grpc_port: int, user_port: int) -> contextlib.AbstractContextManager[None]:
    return floor_service("grpc", "--port", str(grpc_port), "--user-port", str(user_port))


def test_the_floor_serves_both_journeys_and_checks_the_account_over_http() -> None:
    http_port, grpc_port = free_port(), free_port()
    with floor_service("http", "--port", str(http_port)), orders_at(grpc_port, http_port):
        base = f"http://127.0.0.1:{http_port}"
        assert httpx.get(f"{base}/v1/users/me").json()["id"] == USER["id"]
        patched = httpx.patch(f"{base}/v1/users/{USER['id']}", json={"full_name": "X"})
        assert patched.status_code == 200
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            orders = order_pb2_grpc.OrderServiceStub(channel)
            request = order_pb2.CreateOrderRequest(idempotency_key="k-1")
            created = orders.CreateOrder(request, timeout=10)
            replayed = orders.CreateOrder(request, timeout=10)
    assert created.order.user_id == USER["id"]
    assert not created.replayed
    assert replayed.replayed
    assert replayed.order.id == created.order.id


def test_create_order_fails_when_the_user_side_is_gone() -> None:
    # The account check is a real HTTP call: with nothing on the user port, CreateOrder fails.
    grpc_port = free_port()
    with orders_at(grpc_port, free_port()), grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as ch:
        orders = order_pb2_grpc.OrderServiceStub(ch)
        with pytest.raises(grpc.RpcError) as failure:
            orders.CreateOrder(order_pb2.CreateOrderRequest(idempotency_key="k"), timeout=10)
    assert failure.value.code() is grpc.StatusCode.UNKNOWN
