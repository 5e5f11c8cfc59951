"""The order benchmark's RPC phases: a bare grpc.aio method, then CreateOrder, GetOrder,
ListOrders and commit-to-consumed against ONE order-service process (real PostgreSQL, outbox
relay on, telemetry on with the default sampling, exporters off). The user service is an HTTP
stub in its own process, so CreateOrder pays a real HTTP round trip."""

from __future__ import annotations

import argparse
import base64
import sys
import uuid
from pathlib import Path
from typing import Any

import grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from threadline_benchmarks.harness.closed_loop import CallFigures, closed_loop
from threadline_benchmarks.harness.page import ROOT
from threadline_benchmarks.harness.processes import free_port, spawned, wait_for_port_async
from threadline_benchmarks.order.events import KAFKA, commit_to_consumed
from threadline_benchmarks.order.page import row
from threadline_benchmarks.order.stubs import BARE_METHOD, access_tokens, channels
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

__all__ = ["bare_phase", "order_phases"]

STUBS = [sys.executable, "-m", "threadline_benchmarks.order.stubs"]
LIST_PAGE_SIZE = 10
RPC_ERRORS = (grpc.aio.AioRpcError,)


async def bare_phase(args: argparse.Namespace) -> CallFigures:
    port = free_port()
    with spawned([*STUBS, "bare", str(port)], cwd=ROOT) as server:
        await wait_for_port_async(port)
        pool = channels(port, args.channels)
        calls = [channel.unary_unary(BARE_METHOD) for channel in pool]
        payload = order_pb2.GetOrderRequest(order_id=str(uuid.uuid4())).SerializeToString()
        result = await closed_loop(
            "bare grpc.aio unary (echo)",
            lambda n: calls[n % len(calls)](payload, timeout=5),
            concurrency=args.concurrency,
            seconds=args.seconds,
            observed={"server": server.pid},
            errors_of=RPC_ERRORS,
        )
        for channel in pool:
            await channel.close()
    print(row(result), flush=True)
    return result


async def order_phases(args: argparse.Namespace, url: str, topic: str) -> dict[str, Any]:
    """CreateOrder, GetOrder, ListOrders and commit-to-consumed against one order service."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    metadata = access_tokens(key, 200)
    user_port, order_port, admin_port = free_port(), free_port(), free_port()
    env = {
        "ORDER_DATABASE_URL": url,
        "ORDER_PORT": str(order_port),
        "ORDER_ADMIN_PORT": str(admin_port),
        "ORDER_USER_SERVICE_URL": f"http://127.0.0.1:{user_port}",
        "ORDER_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "ORDER_ORDERS_TOPIC": topic,
        "ORDER_LOG_LEVEL": "WARNING",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    order_service = [str(Path(sys.executable).parent / "order-service"), "serve"]
    with (
        spawned([*STUBS, "user", str(user_port), public], cwd=ROOT) as stub,
        spawned(order_service, env=env, cwd=ROOT) as server,
    ):
        observed = {"server": server.pid, "user-service stub": stub.pid}
        await wait_for_port_async(user_port)
        await wait_for_port_async(order_port)
        pool = channels(order_port, args.channels)
        stubs = [order_pb2_grpc.OrderServiceStub(channel) for channel in pool]
        run_id = uuid.uuid4().hex[:6]

        async def create(n: int, product: str = "coffee-beans-1kg") -> Any:
            return await stubs[n % len(stubs)].CreateOrder(
                order_pb2.CreateOrderRequest(
                    idempotency_key=f"{run_id}-{n}",
                    lines=[
                        order_pb2.CreateOrderLine(product_id=product, quantity=1 + n % 3),
                        order_pb2.CreateOrderLine(product_id="filter-papers-100", quantity=2),
                    ],
                ),
                metadata=metadata[n % len(metadata)],
                timeout=5,
            )

        async def measured(name: str, call: Any) -> CallFigures:
            result = await closed_loop(
                name,
                call,
                concurrency=args.concurrency,
                seconds=args.seconds,
                observed=observed,
                errors_of=RPC_ERRORS,
            )
            print(row(result), flush=True)
            return result

        created = await measured("CreateOrder", create)
        # The first caller gets at least a full page of orders for the ListOrders phase.
        sample = [await create(n * len(metadata)) for n in range(-LIST_PAGE_SIZE, 0)][-1]
        get_request = order_pb2.GetOrderRequest(order_id=sample.order.id)
        fetched = await measured(
            "GetOrder",
            lambda n: stubs[n % len(stubs)].GetOrder(get_request, metadata=metadata[0], timeout=5),
        )
        list_request = order_pb2.ListOrdersRequest(page_size=LIST_PAGE_SIZE)
        listed = await measured(
            f"ListOrders ({LIST_PAGE_SIZE} per page)",
            lambda n: stubs[n % len(stubs)].ListOrders(
                list_request, metadata=metadata[0], timeout=5
            ),
        )
        latency = []
        for rate in args.rates:
            figures = await commit_to_consumed(create, topic, rate=rate, seconds=args.paced_seconds)
            print(f"commit-to-consumed at {rate}/s: {figures}", flush=True)
            latency.append(figures)
        for channel in pool:
            await channel.close()
    return {"create": created, "get": fetched, "list": listed, "latency": latency}
