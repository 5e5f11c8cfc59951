"""One trace from CreateOrder through the user service call to the consumer's database update.

Both services export their spans over OTLP to the test session's receiver, which keeps this
launch's spans (`telemetry_sink`, keep_spans); the test then finds the CreateOrder trace and
checks its shape, across two processes and three protocols:

    order  SERVER   order.v1.OrderService/CreateOrder          (gRPC in)
    order  ├ INTERNAL create_order                            (the use case)
    order  │ ├ CLIENT GET                                     (HTTP out)
    user   │ │ └ SERVER GET /v1/users/{user_id}
    order  │ (outbox row written with this context)
    order  └ … PRODUCER send <topic>                          (the relay, later)
    user       └ CONSUMER process <topic>                     (Kafka in)
    user         └ INTERNAL apply order event                 (the database update)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from opentelemetry.trace import SpanKind

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_testing.telemetry_sink import TelemetrySink

pytestmark = pytest.mark.e2e

# OTLP's Span.SpanKind numbers (SPAN_KIND_INTERNAL = 1, ...): one more than the API's enum.
SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = (
    kind.value + 1
    for kind in (
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.INTERNAL,
    )
)


def ancestors(span: Any, by_id: dict[str, Any]) -> list[Any]:
    chain = []
    while span.parent_id and span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


def only(spans: list[Any], **attributes: Any) -> Any:
    matching = [s for s in spans if all(getattr(s, k) == v for k, v in attributes.items())]
    assert len(matching) == 1, (attributes, [(s.service, s.name, s.kind) for s in spans])
    return matching[0]


async def test_one_trace_runs_from_create_order_to_the_consumers_database_update(
    launch_stack: Any, telemetry_sink: TelemetrySink
) -> None:
    stack = launch_stack(keep_spans=True)
    user_id, token = stack.register("traced@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        # Fetches the JWKS, so CreateOrder's trace holds only the account check's HTTP call.
        await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
        response = await orders.CreateOrder(
            order_pb2.CreateOrderRequest(
                idempotency_key="traced",
                lines=[order_pb2.CreateOrderLine(product_id="milk-frother", quantity=2)],
            ),
            metadata=auth,
            timeout=10,
        )

    # The statistics change once the consumer has applied the event.
    deadline = time.monotonic() + 60
    while stack.user(user_id, token)["order_count"] != 1:
        assert time.monotonic() < deadline, "the consumer never applied the event"
        await asyncio.sleep(0.2)
    assert stack.user(user_id, token)["total_spent_cents"] == response.order.total.minor_units

    root = None
    while time.monotonic() < deadline:
        spans = telemetry_sink.kept_spans(stack.telemetry)
        roots = [
            s for s in spans if s.name == "order.v1.OrderService/CreateOrder" and s.kind == SERVER
        ]
        if roots:
            root = roots[0]
            trace = [s for s in spans if s.trace_id == root.trace_id]
            if any(s.name == "apply order event" for s in trace):
                break
        await asyncio.sleep(0.2)
    assert root is not None, "no CreateOrder span was exported"
    trace = [s for s in telemetry_sink.kept_spans(stack.telemetry) if s.trace_id == root.trace_id]
    by_id = {s.span_id: s for s in trace}

    assert root.service == "order"
    assert root.parent_id == ""
    use_case = only(trace, service="order", name="create_order")
    assert use_case.parent_id == root.span_id
    http_out = only(trace, service="order", kind=CLIENT, name="GET")
    assert use_case in ancestors(http_out, by_id)
    http_in = only(trace, service="user", kind=SERVER)
    assert http_in.parent_id == http_out.span_id
    assert "/v1/users/" in http_in.name
    produced = only(trace, service="order", kind=PRODUCER)
    assert use_case in ancestors(produced, by_id)
    consumed = only(trace, service="user", kind=CONSUMER)
    assert consumed.parent_id == produced.span_id
    applied = only(trace, service="user", name="apply order event")
    assert applied.parent_id == consumed.span_id
