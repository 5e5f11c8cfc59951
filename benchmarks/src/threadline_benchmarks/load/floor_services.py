"""The two services' frameworks with nothing behind them: the floor of the mixed journey's cost.

``python -m threadline_benchmarks.load.floor_services http --port P`` serves the user API's routes
that the load test calls with FastAPI under uvicorn (uvloop, httptools), as the user service
runs; ``... grpc --port Q --user-port P`` serves ``order.v1.OrderService`` with grpc.aio on
uvloop, as the order service runs, and its CreateOrder checks the account over HTTP with an
httpx client first, as the real one does. There is no database, cache, event log, telemetry,
authentication or validation beyond the frameworks' own: the answers are the stub services'
(stub_services). Each prints ``ready`` once listening.

`make bench-floor` runs the benchmark's steps against these (floor.py): what is left of two
cores for everything the real services do is what the frameworks and the load generator leave.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import grpc
import httpx
import uvicorn
import uvloop
from fastapi import FastAPI, Request

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_loadtests.stub_services import TOKEN, USER, OrderStub

__all__ = ["floor_user_api", "serve_grpc"]


def floor_user_api() -> FastAPI:
    """The user API's routes the journeys call, each answering the stub's fixed JSON."""
    app = FastAPI(openapi_url=None)

    @app.post("/v1/users", status_code=201)
    async def register(request: Request) -> dict[str, Any]:
        await request.json()
        return USER

    @app.post("/v1/auth/token")
    async def log_in(request: Request) -> dict[str, Any]:
        await request.body()  # a form; parsing it would need python-multipart, nothing else
        return TOKEN

    @app.get("/v1/users/me")
    async def read_me() -> dict[str, Any]:
        return USER

    @app.get("/v1/users/{user_id}")
    async def read_user(user_id: str) -> dict[str, Any]:
        return USER

    @app.patch("/v1/users/{user_id}")
    async def update_user(user_id: str, request: Request) -> dict[str, Any]:
        await request.json()
        return USER

    return app


class _AccountCheckingOrders(OrderStub):
    """The stub's orders, with CreateOrder's HTTP call to the user service in front."""

    def __init__(self, users: httpx.AsyncClient) -> None:
        super().__init__()
        self._users = users

    async def CreateOrder(  # noqa: N802 - the generated servicer's method names
        self, request: order_pb2.CreateOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.CreateOrderResponse:
        if request.idempotency_key not in self.by_idempotency_key:
            await self._check_account()
        return await super().CreateOrder(request, context)

    async def _check_account(self) -> None:
        try:
            answer = await self._users.get(f"/v1/users/{USER['id']}")
        except httpx.TransportError:
            # Retried once, as the order service's client retries transport errors: a pooled
            # connection uvicorn closed as idle just as it was reused fails once, then works.
            answer = await self._users.get(f"/v1/users/{USER['id']}")
        answer.raise_for_status()


async def serve_grpc(*, port: int, user_port: int) -> None:
    """Serve until cancelled; print `ready` once listening."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{user_port}") as users:
        server = grpc.aio.server()
        order_pb2_grpc.add_OrderServiceServicer_to_server(_AccountCheckingOrders(users), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        print("ready", flush=True)
        try:
            await server.wait_for_termination()
        finally:
            await server.stop(grace=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    protocols = parser.add_subparsers(dest="protocol", required=True)
    http = protocols.add_parser("http", help="the user API's routes (FastAPI, uvicorn)")
    http.add_argument("--port", type=int, required=True)
    rpc = protocols.add_parser("grpc", help="order.v1.OrderService (grpc.aio)")
    rpc.add_argument("--port", type=int, required=True)
    rpc.add_argument("--user-port", type=int, required=True, help="where CreateOrder checks")
    args = parser.parse_args()
    if args.protocol == "grpc":
        uvloop.run(serve_grpc(port=args.port, user_port=args.user_port))
        return
    config = uvicorn.Config(
        floor_user_api(),
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)

    async def serve_http() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.01)
        if server.started:
            print("ready", flush=True)
        await serving

    uvloop.run(serve_http())


if __name__ == "__main__":
    main()
