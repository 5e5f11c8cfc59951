"""Text PostgreSQL cannot store, in any field of any OrderService request, over real gRPC.

A NUL (which protobuf carries) or a byte that is not UTF-8 (which the protobuf parser refuses
without saying where) is INVALID_ARGUMENT with a BadRequest naming the field, and nothing is
stored.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import text

from order_service.testing import RunningOrders
from threadline_contracts.order.v1 import order_pb2

pytestmark = pytest.mark.integration

NUL = "must not contain the NUL character"
NOT_UTF8 = "must be valid UTF-8 (no unpaired surrogate, no undecodable byte)"


def violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    (packed,) = [detail for detail in status.details if detail.Is(bad_request.DESCRIPTOR)]
    packed.Unpack(bad_request)
    return [(v.field, v.description) for v in bad_request.field_violations]


async def call(orders: RunningOrders, method: str, raw: bytes) -> grpc.aio.AioRpcError:
    rpc = orders.channel.unary_unary(f"/order.v1.OrderService/{method}")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rpc(raw, metadata=orders.auth(uuid.uuid4()), timeout=5)
    return caught.value


async def test_a_nul_in_any_request_field_is_invalid_argument_naming_it(
    running_orders: RunningOrders,
) -> None:
    create = order_pb2.CreateOrderRequest(
        idempotency_key="k1",
        lines=[
            order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1),
            order_pb2.CreateOrderLine(product_id="french-press\x00", quantity=1),
        ],
    )
    refused = {
        "CreateOrder": create,
        "GetOrder": order_pb2.GetOrderRequest(order_id="\x00"),
        "CancelOrder": order_pb2.CancelOrderRequest(order_id=str(uuid.uuid4()) + "\x00"),
        "ListOrders": order_pb2.ListOrdersRequest(page_token="abc\x00"),
    }
    named = {
        method: violations(await call(running_orders, method, request.SerializeToString()))
        for method, request in refused.items()
    }

    assert named == {
        "CreateOrder": [("lines[1].product_id", NUL)],
        "GetOrder": [("order_id", NUL)],
        "CancelOrder": [("order_id", NUL)],
        "ListOrders": [("page_token", NUL)],
    }
    async with running_orders.app.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM orders"))).scalar() == 0


async def test_a_byte_that_is_not_utf8_is_invalid_argument_naming_its_field(
    running_orders: RunningOrders,
) -> None:
    raw = order_pb2.CreateOrderRequest(
        idempotency_key="key-zz",
        lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
    ).SerializeToString()

    error = await call(running_orders, "CreateOrder", raw.replace(b"key-zz", b"key-\xff\xfe"))

    assert violations(error) == [("idempotency_key", NOT_UTF8)]
