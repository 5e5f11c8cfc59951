"""Every RPC under hypothesis: generated messages and garbage bytes never get INTERNAL or hang.

Messages are generated from the protobuf descriptors (any field, any value the wire allows),
with and without a valid token, and as raw bytes that may not parse at all. Each call runs
under a deadline; the answer must be a deliberate status, never INTERNAL/UNKNOWN, and never a
timeout.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from order_service.testing import RunningOrders
from threadline_contracts.order.v1 import order_pb2

pytestmark = pytest.mark.integration

FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
METHODS = {
    method.name: (
        getattr(order_pb2, method.input_type.name),
        getattr(order_pb2, method.output_type.name),
    )
    for method in order_pb2.DESCRIPTOR.services_by_name["OrderService"].methods
}
_INT32 = st.integers(-(2**31), 2**31 - 1)
_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_STRING: st.one_of(
        st.text(max_size=80),
        st.sampled_from(["coffee-beans-1kg", "french-press", str(uuid.uuid4())]),
    ),
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=64),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_INT32: st.one_of(_INT32, st.integers(-2, 120)),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
}


def message_strategy(message_class: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any message of ``message_class``: every field optional, nested, repeated, enums."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in message_class.DESCRIPTOR.fields:
        described: Any = field
        if described.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2 or described.message_type.full_name.startswith("google.protobuf"):
                continue
            value = message_strategy(described.message_type._concrete_class, depth + 1)
        elif described.type == FieldDescriptor.TYPE_ENUM:
            value = st.sampled_from([v.number for v in described.enum_type.values])
        else:
            value = _SCALARS[described.type]
        if described.is_repeated:
            value = st.lists(value, max_size=25)
        fields[described.name] = value
    return st.fixed_dictionaries({}, optional=fields).map(lambda kwargs: message_class(**kwargs))


def requests(name: str) -> st.SearchStrategy[bytes]:
    built = message_strategy(METHODS[name][0])
    return st.one_of(
        built.map(lambda message: message.SerializeToString()), st.binary(max_size=256)
    )


def metadata_for(
    orders: RunningOrders, choice: str, user: uuid.UUID
) -> tuple[tuple[str, str], ...]:
    if choice == "valid":
        return orders.auth(user)
    if choice == "garbage":
        return (("authorization", "Bearer eyJhbGciOiJub25lIn0.e30."),)
    return ()


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("method", sorted(METHODS))
@FUZZ
@given(data=st.data())
async def test_any_request_gets_a_deliberate_status(
    running_orders: RunningOrders, method: str, data: st.DataObject
) -> None:
    body = data.draw(requests(method), label="body")
    auth = data.draw(st.sampled_from(["valid", "valid", "garbage", "none"]), label="auth")
    user = data.draw(st.sampled_from([uuid.UUID(int=1), uuid.UUID(int=2)]), label="user")
    call = running_orders.channel.unary_unary(f"/order.v1.OrderService/{method}")
    code, details = grpc.StatusCode.OK, ""
    try:
        raw = await call(body, metadata=metadata_for(running_orders, auth, user), timeout=5)
    except grpc.aio.AioRpcError as error:
        code, details = error.code(), error.details()
    else:
        METHODS[method][1].FromString(raw)  # a success is a well-formed response
    assert code not in FORBIDDEN, (code, details)
