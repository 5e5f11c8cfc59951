"""Where a cache hit's time goes: CPU per request of the service's stack, one layer at a time.

The same app the service runs (create_app, its lifespan over the benchmark's PostgreSQL and
Redis), called in-process through ASGI by concurrent callers on uvloop, with routes added that
stop after each layer. CPU time (not wall time) per request is what bounds one worker's throughput.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from observability.testing import isolated_telemetry
from user_service.api.deps import PrincipalDep, ServicesDep, UnitOfWorkDep
from user_service.main import create_app
from user_service.service_layer import users
from user_service.settings import Settings

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
CALLERS, PER_CALLER, ROUNDS = 20, 150, 3


async def _cpu_per_request(
    app: ASGI, path: str, headers: list[tuple[bytes, bytes]], state: Any
) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise AssertionError(f"{path} answered {message['status']}")

    async def caller() -> None:
        for _ in range(PER_CALLER):
            await app({**scope, "state": dict(state)}, receive, send)

    await caller()  # warm-up
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        best = min(best, (time.process_time() - started) / (CALLERS * PER_CALLER))
    return best * 1e6


async def breakdown(
    settings: Settings, *, token: str, user_id: str, body: dict[str, Any]
) -> list[tuple[str, float]]:
    """(layer, CPU µs per request) from the bare route to the full cache-hit route."""
    telemetry, _ = isolated_telemetry(traces_sampler_ratio=0.1)
    app = create_app(settings, telemetry)

    @app.get("/stage/middleware/{user_id}")
    async def middleware_only(user_id: str) -> dict[str, Any]:
        return body

    @app.get("/stage/auth/{user_id}")
    async def with_auth(user_id: str, principal: PrincipalDep) -> dict[str, Any]:
        return body

    @app.get("/stage/dependencies/{user_id}")
    async def with_dependencies(
        user_id: uuid.UUID, principal: PrincipalDep, services: ServicesDep, uow: UnitOfWorkDep
    ) -> dict[str, Any]:
        return body

    @app.get("/stage/cache/{user_id}")
    async def with_cache(
        user_id: uuid.UUID, principal: PrincipalDep, services: ServicesDep, uow: UnitOfWorkDep
    ) -> dict[str, Any]:
        await users.get_user(uow=uow, cache=services.cache, principal=principal, user_id=user_id)
        return body

    bare = FastAPI()

    @bare.get("/bare/users/{user_id}")
    async def bare_route(user_id: str) -> dict[str, Any]:
        return body

    auth = [(b"authorization", f"Bearer {token}".encode())]
    async with app.router.lifespan_context(app) as state:
        stages = [
            ("bare FastAPI route", bare, f"/bare/users/{user_id}", []),
            (
                "+ the service's middleware (tracing, RED, body limit)",
                app,
                f"/stage/middleware/{user_id}",
                [],
            ),
            (
                "+ bearer token dependency (verified token remembered)",
                app,
                f"/stage/auth/{user_id}",
                auth,
            ),
            (
                "+ services and unit-of-work dependencies, UUID path",
                app,
                f"/stage/dependencies/{user_id}",
                auth,
            ),
            (
                "+ use case and Redis GET (redis-py, contrib span)",
                app,
                f"/stage/cache/{user_id}",
                auth,
            ),
            (
                "= GET /v1/users/{id} (+ UserPublic response model)",
                app,
                f"/v1/users/{user_id}",
                auth,
            ),
        ]
        return [
            (label, round(await _cpu_per_request(target, path, headers, state or {}), 1))
            for label, target, path, headers in stages
        ]
