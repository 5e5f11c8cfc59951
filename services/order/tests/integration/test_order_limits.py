"""What one client may hold of the real gRPC server: streams, metadata, pings, call length.

The server is the real one (`main.build`, real PostgreSQL); the clients are a grpc.aio channel
where the library behaves, and raw HTTP/2 frames where only a misbehaving client would reach a
limit (opening streams beyond the advertised maximum, pinging in a loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import httpx
import pytest

from order_service.testing import FakeUserService, RunningOrders
from threadline_contracts.order.v1 import order_pb2

pytestmark = pytest.mark.integration

# HTTP/2 (RFC 9113) frame types, settings, error codes.
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
REFUSED_STREAM, ENHANCE_YOUR_CALM = 0x7, 0xB
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# conftest's `start_orders`: the real server, on a migrated database, with these settings.
StartOrders = Callable[..., Awaitable[RunningOrders]]


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream)
        + payload
    )


def literal_headers(headers: list[tuple[str, str]]) -> bytes:
    """HPACK literal fields without indexing, no Huffman (RFC 7541 6.2.2): short names/values."""
    block = b""
    for name, value in headers:
        assert len(name) < 127
        assert len(value) < 127
        block += bytes([0, len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return block


@dataclass
class Frame:
    kind: int
    flags: int
    stream: int
    payload: bytes


@dataclass
class RawHttp2:
    """A hand-driven HTTP/2 connection to the server: frames out, frames in."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server_settings: dict[int, int] = field(default_factory=dict)

    @classmethod
    async def connect(cls, port: int) -> RawHttp2:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connection = cls(reader, writer)
        writer.write(PREFACE + frame(SETTINGS, 0, 0))
        # The server's SETTINGS come first; acknowledge them so they are in force.
        first = await connection.read()
        assert first.kind == SETTINGS, first
        for offset in range(0, len(first.payload), 6):
            key, value = struct.unpack(">HI", first.payload[offset : offset + 6])
            connection.server_settings[key] = value
        writer.write(frame(SETTINGS, ACK, 0))
        await writer.drain()
        return connection

    async def read(self, seconds: float = 5.0) -> Frame:
        head = await asyncio.wait_for(self.reader.readexactly(9), seconds)
        length = int.from_bytes(head[:3], "big")
        payload = await asyncio.wait_for(self.reader.readexactly(length), seconds)
        return Frame(head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, payload)

    async def until(self, kind: int, seconds: float = 5.0) -> Frame:
        deadline = time.monotonic() + seconds
        while True:
            found = await self.read(max(deadline - time.monotonic(), 0.01))
            if found.kind == kind:
                return found

    async def open_stream(self, stream: int, path: str) -> None:
        """A call's HEADERS without its message: the stream stays open, waiting for it."""
        block = literal_headers(
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", "orders"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            ]
        )
        self.writer.write(frame(HEADERS, END_HEADERS, stream, block))
        await self.writer.drain()

    async def ping(self, opaque: int) -> None:
        self.writer.write(frame(PING, 0, 0, struct.pack(">Q", opaque)))
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
async def raw_connections() -> AsyncIterator[list[RawHttp2]]:
    opened: list[RawHttp2] = []
    yield opened
    for connection in opened:
        await connection.close()


async def raw(orders: RunningOrders, opened: list[RawHttp2]) -> RawHttp2:
    connection = await RawHttp2.connect(orders.app.port)
    opened.append(connection)
    return connection


GET_ORDER = "/order.v1.OrderService/GetOrder"


# Streams per connection --------------------------------------------------------------------


async def test_the_stream_limit_is_advertised_and_a_stream_beyond_it_is_refused(
    start_orders: StartOrders, raw_connections: list[RawHttp2]
) -> None:
    orders = await start_orders(grpc_max_concurrent_streams=2)
    connection = await raw(orders, raw_connections)
    assert connection.server_settings[SETTINGS_MAX_CONCURRENT_STREAMS] == 2

    for stream in (1, 3, 5):
        await connection.open_stream(stream, GET_ORDER)
    reset = await connection.until(RST_STREAM)

    assert reset.stream == 5
    assert int.from_bytes(reset.payload, "big") == REFUSED_STREAM


class SlowUserService(FakeUserService):
    """Account checks take a while, and it is counted how many run at once."""

    delay_seconds: float = 0.3
    running: int = 0
    most_at_once: int = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:  # type: ignore[override]
        if request.url.path.startswith("/v1/users/"):
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            try:
                await asyncio.sleep(self.delay_seconds)
            finally:
                self.running -= 1
        return super().handle(request)


@pytest.fixture
def user_service() -> SlowUserService:
    return SlowUserService()


async def test_a_client_honouring_the_stream_limit_queues_its_calls_without_errors(
    start_orders: StartOrders, user_service: SlowUserService
) -> None:
    orders = await start_orders(grpc_max_concurrent_streams=1)
    user = uuid.uuid4()

    async def create(key: str) -> order_pb2.CreateOrderResponse:
        request = order_pb2.CreateOrderRequest(
            idempotency_key=key,
            lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
        )
        response: order_pb2.CreateOrderResponse = await orders.stub.CreateOrder(
            request, metadata=orders.auth(user), timeout=10
        )
        return response

    created = await asyncio.gather(*(create(f"k{i}") for i in range(3)))

    assert len({response.order.id for response in created}) == 3
    # One stream at a time on the channel's one connection: the checks never overlapped.
    assert user_service.most_at_once == 1


# Metadata size ------------------------------------------------------------------------------


async def test_metadata_over_the_limit_is_resource_exhausted(
    start_orders: StartOrders,
) -> None:
    orders = await start_orders(grpc_max_metadata_bytes=4096)
    request = order_pb2.GetOrderRequest(order_id=str(uuid.uuid4()))
    user = uuid.uuid4()

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await orders.stub.GetOrder(
            request, metadata=(*orders.auth(user), ("x-padding", "a" * 8000)), timeout=5
        )

    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "metadata" in (refused.value.details() or "")
    # Within the limit the same call is served (NOT_FOUND: no such order, and not another's).
    with pytest.raises(grpc.aio.AioRpcError) as served:
        await orders.stub.GetOrder(
            request, metadata=(*orders.auth(user), ("x-padding", "a" * 1000)), timeout=5
        )
    assert served.value.code() == grpc.StatusCode.NOT_FOUND


# Keepalive pings ----------------------------------------------------------------------------


async def test_a_client_pinging_too_often_gets_goaway_enhance_your_calm(
    start_orders: StartOrders, raw_connections: list[RawHttp2]
) -> None:
    orders = await start_orders(grpc_keepalive_permit_without_calls=True)
    connection = await raw(orders, raw_connections)

    # Closer together than the 30 s default allows: each is a strike, the third one too many.
    for opaque in range(5):
        await connection.ping(opaque)
    goaway = await connection.until(GOAWAY)

    error_code = int.from_bytes(goaway.payload[4:8], "big")
    assert error_code == ENHANCE_YOUR_CALM
    assert goaway.payload[8:] == b"too_many_pings"


async def test_pings_spaced_beyond_the_minimum_interval_are_answered(
    start_orders: StartOrders, raw_connections: list[RawHttp2]
) -> None:
    orders = await start_orders(
        grpc_keepalive_permit_without_calls=True, grpc_min_ping_interval_seconds=0.2
    )
    connection = await raw(orders, raw_connections)

    # Well apart, with margin for a busy machine delaying the server's reads.
    for opaque in range(4):
        await connection.ping(opaque)
        answer = await connection.until(PING)
        assert answer.flags & ACK
        await asyncio.sleep(0.6)

    for opaque in range(4):
        await connection.ping(100 + opaque)
    assert (await connection.until(GOAWAY)).payload[8:] == b"too_many_pings"


async def test_without_calls_pings_are_strikes_unless_permitted(
    start_orders: StartOrders, raw_connections: list[RawHttp2]
) -> None:
    orders = await start_orders(grpc_min_ping_interval_seconds=0.2)
    connection = await raw(orders, raw_connections)

    # Spaced well enough, but no call is running and ORDER_GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS
    # is off: gRPC then allows one ping per two hours.
    for opaque in range(4):
        await connection.ping(opaque)
        await asyncio.sleep(0.3)
    assert (await connection.until(GOAWAY)).payload[8:] == b"too_many_pings"


# Deadline ceiling ---------------------------------------------------------------------------


async def test_a_call_longer_than_the_ceiling_ends_deadline_exceeded_naming_the_setting(
    start_orders: StartOrders, user_service: SlowUserService
) -> None:
    user_service.delay_seconds = 5.0
    orders = await start_orders(
        grpc_max_deadline_seconds=0.5,
        user_check_timeout_seconds=10.0,
        user_check_attempt_timeout_seconds=10.0,
    )
    user = uuid.uuid4()
    request = order_pb2.CreateOrderRequest(
        idempotency_key="slow",
        lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
    )

    for client_deadline in (None, 60.0):
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await orders.stub.CreateOrder(
                request, metadata=orders.auth(user), timeout=client_deadline
            )
        elapsed = time.monotonic() - started
        assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "ORDER_GRPC_MAX_DEADLINE_SECONDS" in (ended.value.details() or "")
        assert 0.5 <= elapsed < 2.0

    # Nothing was stored: the call was cancelled before its transaction.
    listed = await orders.stub.ListOrders(
        order_pb2.ListOrdersRequest(), metadata=orders.auth(user), timeout=5
    )
    assert list(listed.orders) == []


async def test_a_client_deadline_under_the_ceiling_is_the_clients_own(
    start_orders: StartOrders, user_service: SlowUserService
) -> None:
    user_service.delay_seconds = 5.0
    orders = await start_orders(
        grpc_max_deadline_seconds=3.0,
        user_check_timeout_seconds=10.0,
        user_check_attempt_timeout_seconds=10.0,
    )
    request = order_pb2.CreateOrderRequest(
        idempotency_key="short",
        lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
    )
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await orders.stub.CreateOrder(request, metadata=orders.auth(uuid.uuid4()), timeout=0.4)
    # The servicer fits its account check into the client's deadline (UNAVAILABLE when the
    # check gives up first); either way the ceiling had no part in it.
    assert ended.value.code() in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
    assert "ORDER_GRPC_MAX_DEADLINE_SECONDS" not in (ended.value.details() or "")
    assert time.monotonic() - started < 1.5


async def test_calls_within_the_ceiling_are_untouched(start_orders: StartOrders) -> None:
    orders = await start_orders(grpc_max_deadline_seconds=5.0)
    listed = await orders.stub.ListOrders(
        order_pb2.ListOrdersRequest(), metadata=orders.auth(uuid.uuid4())
    )
    assert list(listed.orders) == []
