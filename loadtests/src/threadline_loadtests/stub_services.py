"""Stand-ins for the user and order services that answer at almost no cost, to weigh the generator.

`python -m threadline_loadtests.stub_services --http-port P --grpc-port Q` serves what the
load test's users ask for, on loopback: the user service's routes over HTTP/1.1 (keep-alive,
fixed JSON answers), `order.v1.OrderService` over gRPC (orders of realistic size, idempotent
creates, cancels), and an OTLP trace sink that takes the generator's sampled spans. Nothing is
stored or checked beyond what the journeys' own checks need. It prints `ready` once listening.

The load generator's cost benchmark (generator_cost) runs against it: against these, the
generator's CPU per request is its own, not the system's. The framework floor
(floor_services) serves the same answers. `running_stand_in` runs either as a child process,
from the moment it is listening to the end of a ``with`` block.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import select
import subprocess
import sys
import uuid
from collections.abc import Iterator

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

__all__ = ["TOKEN", "USER", "OrderStub", "running_stand_in", "serve"]

USER = {
    "id": "7d2c1f1e-0000-4000-8000-000000000001",
    "email": "load-stub@example.com",
    "full_name": "Load Stub",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
TOKEN = {"access_token": "stub." + "t" * 300, "token_type": "bearer", "expires_in": 900}
PRODUCT_PRICE_MINOR_UNITS = {"coffee-beans-1kg": 1999, "french-press": 3450}
# A ListOrders page as the journeys ask for it (page_size 10), with a next page to ask for.
PAGE_SIZE = 10
NEXT_PAGE = "page-2"


def _http_response(status: int, reason: str, body: object, *, close: bool = False) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n" + ("connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode() + payload


class _HttpStub(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: one fixed answer per route, requests parsed just enough."""

    # By route, then by whether the client asked to close the connection (as servers say so).
    created = {close: _http_response(201, "Created", USER, close=close) for close in (False, True)}
    token = {close: _http_response(200, "OK", TOKEN, close=close) for close in (False, True)}
    profile = {close: _http_response(200, "OK", USER, close=close) for close in (False, True)}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines)
            }
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _version = request_line.split(" ", 2)
            close = headers.get("connection", "").lower() == "close"
            if method == "POST" and path.endswith("/v1/users"):
                self.transport.write(self.created[close])
            elif path.endswith("/v1/auth/token"):
                self.transport.write(self.token[close])
            else:
                self.transport.write(self.profile[close])
            if close:
                self.transport.close()
                return


def _order(
    order_id: str, status: order_pb2.OrderStatus.ValueType = order_pb2.ORDER_STATUS_CREATED
) -> order_pb2.Order:
    order = order_pb2.Order(id=order_id, user_id=USER["id"], status=status)
    total = 0
    for product, price in PRODUCT_PRICE_MINOR_UNITS.items():
        order.lines.add(
            product_id=product,
            quantity=2,
            unit_price=order_pb2.Money(currency_code="EUR", minor_units=price),
            line_total=order_pb2.Money(currency_code="EUR", minor_units=2 * price),
        )
        total += 2 * price
    order.total.currency_code, order.total.minor_units = "EUR", total
    order.create_time.GetCurrentTime()
    order.update_time.GetCurrentTime()
    return order


class OrderStub(order_pb2_grpc.OrderServiceServicer):
    def __init__(self) -> None:
        self.by_idempotency_key: dict[str, str] = {}

    async def CreateOrder(  # noqa: N802 - the generated servicer's method names
        self, request: order_pb2.CreateOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.CreateOrderResponse:
        known = self.by_idempotency_key.get(request.idempotency_key)
        if known is not None:
            return order_pb2.CreateOrderResponse(order=_order(known), replayed=True)
        order_id = str(uuid.uuid4())
        self.by_idempotency_key[request.idempotency_key] = order_id
        return order_pb2.CreateOrderResponse(order=_order(order_id))

    async def GetOrder(  # noqa: N802
        self, request: order_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.Order:
        return _order(request.order_id)

    async def ListOrders(  # noqa: N802
        self, request: order_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.ListOrdersResponse:
        orders = [_order(str(uuid.uuid4())) for _ in range(PAGE_SIZE)]
        return order_pb2.ListOrdersResponse(orders=orders, next_page_token=NEXT_PAGE)

    async def CancelOrder(  # noqa: N802
        self, request: order_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.Order:
        return _order(request.order_id, order_pb2.ORDER_STATUS_CANCELLED)


class _TraceSink(trace_service_pb2_grpc.TraceServiceServicer):
    async def Export(  # noqa: N802
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        context: grpc.aio.ServicerContext,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        return trace_service_pb2.ExportTraceServiceResponse()


async def serve(*, http_port: int, grpc_port: int) -> None:
    """Serve until cancelled; print `ready` once both ports listen."""
    loop = asyncio.get_running_loop()
    http = await loop.create_server(_HttpStub, "127.0.0.1", http_port, backlog=1024)
    server = grpc.aio.server()
    order_pb2_grpc.add_OrderServiceServicer_to_server(OrderStub(), server)
    # The OTLP package's generated gRPC module carries no annotations.
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceSink(), server)  # type: ignore[no-untyped-call]
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()
    print("ready", flush=True)
    try:
        await server.wait_for_termination()
    finally:
        http.close()
        await server.stop(grace=None)


@contextlib.contextmanager
def running_stand_in(module: str, *args: str, timeout: float = 30.0) -> Iterator[None]:
    """``python -m module args`` from its `ready` line to the block's end; RuntimeError if none."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        # `ready` is its first line; one that died prints nothing and readline returns "".
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        if not readable or process.stdout.readline().strip() != "ready":
            process.kill()
            process.wait()
            raise RuntimeError(f"{module} {' '.join(args)} did not start")
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(http_port=args.http_port, grpc_port=args.grpc_port))


if __name__ == "__main__":
    main()
