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
CALLERS, PER_CALLER, ROUNDS = 20, 100, 6


@dataclass(frozen=True)
class Layer:
    label: str
    cpu_us: float
    # The layer this one adds to (None for the first).
    over: str | None


@dataclass
class _Stage:
    label: str
    over: str | None
    app: ASGI
    path: str
    headers: list[tuple[bytes, bytes]]
    state: dict[str, Any]
    best_us: float = float("inf")

    async def measure(self, requests_per_caller: int = PER_CALLER) -> float:
        """CPU µs per request of one round of CALLERS concurrent callers."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise AssertionError(f"{self.path} answered {message['status']}")

        async def caller() -> None:
            for _ in range(requests_per_caller):
                await self.app({**scope, "state": dict(self.state)}, receive, send)

        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        return (time.process_time() - started) / (CALLERS * requests_per_caller) * 1e6


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

    # To the front of the route table: appended, each stage would pay for matching every route
    # of the service first, which the real route (declared early) does not.
    routes = app.router.routes
    routes[:] = [*routes[-3:], *routes[:-3]]
    return app


async def breakdown(
    settings: Settings, *, token: str, user_id: str, body: dict[str, Any]
) -> list[Layer]:
    """CPU µs per request from the bare route to the full route, near-cache hit and Redis hit.

    The stages take turns, round after round, and each keeps its cheapest round: a neighbour's
    burst then inflates one round of every stage rather than all rounds of one.
    """
    bare = FastAPI()

    @bare.get("/bare/users/{user_id}")
    async def bare_route(user_id: str) -> dict[str, Any]:
        return body

    auth = [(b"authorization", f"Bearer {token}".encode())]
    near = _staged_app(settings, body)
    far = _staged_app(settings.model_copy(update={"cache_near_enabled": False}), body)
    async with (
        near.router.lifespan_context(near) as near_state,
        far.router.lifespan_context(far) as far_state,
    ):
        near_stages = [
            ("bare FastAPI route", bare, f"/bare/users/{user_id}", [], {}),
            (
                "+ the service's middleware (tracing, RED, body limit)",
                near,
                f"/stage/middleware/{user_id}",
                [],
                near_state,
            ),
            (
                "+ caller dependency (bearer token, verified token remembered), UUID path",
                near,
                f"/stage/caller/{user_id}",
                auth,
                near_state,
            ),
            (
                "+ use case, near-cache hit (in process)",
                near,
                f"/stage/cache/{user_id}",
                auth,
                near_state,
            ),
            (
                "= GET /v1/users/{id}, near-cache hit (+ route matching, UserPublic)",
                near,
                f"/v1/users/{user_id}",
                auth,
                near_state,
            ),
        ]
        stages: list[_Stage] = []
        for label, app, path, headers, state in near_stages:
            over = stages[-1].label if stages else None
            stages.append(_Stage(label, over, app, path, headers, dict(state or {})))
        redis_get = _Stage(
            "+ use case, Redis GET (near cache off; redis-py, contrib span)",
            stages[2].label,
            far,
            f"/stage/cache/{user_id}",
            auth,
            dict(far_state or {}),
        )
        redis_full = _Stage(
            "= GET /v1/users/{id}, Redis hit (+ route matching, UserPublic)",
            redis_get.label,
            far,
            f"/v1/users/{user_id}",
            auth,
            dict(far_state or {}),
        )
        stages += [redis_get, redis_full]
        for stage in stages:
            await stage.measure(requests_per_caller=10)  # warm-up
        for _ in range(ROUNDS):
            for stage in stages:
                stage.best_us = min(stage.best_us, await stage.measure())
    return [Layer(stage.label, round(stage.best_us, 1), stage.over) for stage in stages]
