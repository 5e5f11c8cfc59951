"""Where a cache hit's time goes: CPU per request of the service's stack, one layer at a time.

The same app the service runs (create_app, its lifespan over the benchmark's PostgreSQL and
Redis), called in-process through ASGI by concurrent callers on uvloop, with routes added that
stop after each layer. CPU time (not wall time) per request is what bounds one worker's throughput.

Two apps are measured: the service as configured (near cache on), and the same service with the
near cache off, so every read asks Redis; both answer the real GET /v1/users/{id} last.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from observability.testing import isolated_telemetry
from user_service.api.deps import CallerDep
from user_service.main import create_app
from user_service.service_layer import users
from user_service.settings import Settings

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
CALLERS, PER_CALLER, ROUNDS = 20, 150, 3


@dataclass(frozen=True)
class Layer:
    label: str
    cpu_us: float
    # The layer this one adds to (None for the first).
    over: str | None


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


def _staged_app(settings: Settings, body: dict[str, Any]) -> FastAPI:
    """The service's app with routes that stop after each layer."""
    telemetry, _ = isolated_telemetry(traces_sampler_ratio=0.1)
    app = create_app(settings, telemetry)

    @app.get("/stage/middleware/{user_id}")
    async def middleware_only(user_id: str) -> dict[str, Any]:
        return body

    @app.get("/stage/caller/{user_id}")
    async def with_caller(user_id: uuid.UUID, caller: CallerDep) -> dict[str, Any]:
        return body

    @app.get("/stage/cache/{user_id}")
    async def with_cache(user_id: uuid.UUID, caller: CallerDep) -> dict[str, Any]:
        services = caller.services
        await users.get_user(
            uow=services.unit_of_work(),
            cache=services.cache,
            principal=caller.principal,
            user_id=user_id,
        )
        return body

    return app


async def breakdown(
    settings: Settings, *, token: str, user_id: str, body: dict[str, Any]
) -> list[Layer]:
    """CPU µs per request from the bare route to the full route, near-cache hit and Redis hit."""
    bare = FastAPI()

    @bare.get("/bare/users/{user_id}")
    async def bare_route(user_id: str) -> dict[str, Any]:
        return body

    auth = [(b"authorization", f"Bearer {token}".encode())]
    layers = [Layer("bare FastAPI route", await _measure(bare, f"/bare/users/{user_id}", []), None)]
    near = _staged_app(settings, body)
    async with near.router.lifespan_context(near) as state:
        for label, path, headers in [
            (
                "+ the service's middleware (tracing, RED, body limit)",
                f"/stage/middleware/{user_id}",
                [],
            ),
            (
                "+ caller dependency (bearer token, verified token remembered), UUID path",
                f"/stage/caller/{user_id}",
                auth,
            ),
            ("+ use case, near-cache hit (in process)", f"/stage/cache/{user_id}", auth),
            (
                "= GET /v1/users/{id}, near-cache hit (+ UserPublic response)",
                f"/v1/users/{user_id}",
                auth,
            ),
        ]:
            micros = await _measure(near, path, headers, state)
            layers.append(Layer(label, micros, layers[-1].label))
    before_cache = layers[2].label
    far = _staged_app(settings.model_copy(update={"cache_near_enabled": False}), body)
    async with far.router.lifespan_context(far) as state:
        redis_get = await _measure(far, f"/stage/cache/{user_id}", auth, state)
        full = await _measure(far, f"/v1/users/{user_id}", auth, state)
    redis_label = "+ use case, Redis GET (near cache off; redis-py, contrib span)"
    layers.append(Layer(redis_label, redis_get, before_cache))
    layers.append(
        Layer("= GET /v1/users/{id}, Redis hit (+ UserPublic response)", full, redis_label)
    )
    return layers


async def _measure(
    app: ASGI, path: str, headers: list[tuple[bytes, bytes]], state: Any = None
) -> float:
    return round(await _cpu_per_request(app, path, headers, state or {}), 1)
