"""Registers OrderService on a grpc.aio server, parsing requests where errors can be mapped.

The generated ``add_OrderServiceServicer_to_server`` lets gRPC parse each request before our
code runs, and a body that is not a valid message then fails as UNKNOWN. Here each method
receives the raw bytes and parses them itself, so garbage is INVALID_ARGUMENT like any other
bad request, and every string field is held to the text rule there (`api.request_text`): a NUL
or a byte that is not UTF-8 is INVALID_ARGUMENT naming its field, before any use case runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import grpc
from google.protobuf.message import DecodeError, Message

from order_service.api.request_text import text_violations, undecodable_text_violations
from order_service.api.servicer import OrderServicer
from order_service.domain.errors import FieldViolation, InvalidRequestError
from threadline_contracts.order.v1 import order_pb2

SERVICE_NAME: Final = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name


def _parsing(
    method: Callable[[Any, Any], Awaitable[Message]], request_type: type[Message]
) -> Callable[[bytes, Any], Awaitable[Message]]:
    full_name = request_type.DESCRIPTOR.full_name

    async def parse_then_call(raw: bytes, context: Any) -> Message:
        try:
            request = request_type.FromString(raw)
        except DecodeError:
            raise InvalidRequestError(
                undecodable_text_violations(request_type, raw)
                or [FieldViolation("", f"the request is not a valid {full_name} message")]
            ) from None
        violations = text_violations(request)
        if violations:
            raise InvalidRequestError(violations)
        return await method(request, context)

    return parse_then_call


def add_order_service(server: grpc.aio.Server, servicer: OrderServicer) -> None:
    descriptor = order_pb2.DESCRIPTOR.services_by_name["OrderService"]
    handlers = {}
    for method in descriptor.methods:
        request_type = getattr(order_pb2, method.input_type.name)
        response_type = getattr(order_pb2, method.output_type.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _parsing(getattr(servicer, method.name), request_type),
            request_deserializer=None,
            response_serializer=response_type.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
