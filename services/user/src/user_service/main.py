"""Composition root: `create_app` wires the service, its lifespan builds and closes everything.

Nothing here is module-global: `serve()` builds settings and telemetry, `create_app` the app,
and the lifespan the engine, Redis client, keys and adapters, which routes receive through
the `Annotated` dependencies of api/deps.py. The pieces the orders.v1 consumer's own process
needs (`open_database`, `open_redis`, `redis_user_cache`, `start_orders_consumer`) are shared
with consumer_main.py, which composes that process role from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from observability import Telemetry, setup
from observability.fastapi import instrument_app
from observability.fastapi import serve as serve_app
from observability.redis import instrument_redis
from observability.sqlalchemy import open_engine
from user_service.adapters.cache import CACHE_NAME, CacheCounters, RedisUserCache
from user_service.adapters.database import create_engine
from user_service.adapters.events import MetricUserEvents
from user_service.adapters.invalidations import InvalidationListener
from user_service.adapters.keys import KeyRing
from user_service.adapters.migrations import require_head
from user_service.adapters.near_cache import NEAR_CACHE_NAME, NearUserCache
from user_service.adapters.order_events import OrderEventsConsumer, order_events_consumer
from user_service.adapters.passwords import Argon2PasswordHasher
from user_service.adapters.redis_client import create_redis
from user_service.adapters.throttle import THROTTLE_NAME, Limit, RedisLoginThrottle
from user_service.adapters.tokens import JwtIssuer, JwtVerifier
from user_service.api.deps import Services
from user_service.api.http_limits import HttpLimits, LimitedHttpToolsProtocol
from user_service.api.middleware.body_limit import BodyLimitMiddleware
from user_service.api.problems import install_problem_handlers, register_problem_schema
from user_service.api.routes import admin, auth, users
from user_service.service_layer.ports import UserCache
from user_service.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_keys(settings: Settings) -> KeyRing:
    if settings.signing_keys_pem:
        return KeyRing.from_pems(pem.get_secret_value() for pem in settings.signing_keys_pem)
    return KeyRing.load_or_create(settings.signing_keys_dir)


def create_app(settings: Settings, telemetry: Telemetry) -> FastAPI:
    """The FastAPI app; its lifespan connects to PostgreSQL and Redis when it starts."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            services = await _build_services(settings, telemetry, stack)
            if settings.orders_consumer_enabled:
                consumer = order_events_consumer(
                    settings, telemetry, engine=services.engine, cache=services.cache
                )
                # The API serves while Kafka is away: the consumer's health is reported only.
                start_orders_consumer(consumer, telemetry, stack, kafka_critical=False)
            yield {"services": services}

    app = FastAPI(
        title="Threadline user service",
        version=version("user-service"),
        summary="Users, their passwords and access tokens (EdDSA JWTs, JWKS published).",
        lifespan=lifespan,
    )
    # Each router's prefix and tags are its own, so its routes join the app's table as they are,
    # ahead of the documentation routes: `include_router` would add each router lazily, and
    # FastAPI then matches its routes twice per request, which with the routes tried first cost
    # a cache hit ~50 µs of CPU (docs/benchmarks/user.md).
    app.router.routes[:0] = [*users.router.routes, *admin.router.routes, *auth.router.routes]
    install_problem_handlers(app)
    register_problem_schema(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.http_body_timeout_seconds,
    )
    # Around the whole stack, Starlette's error middleware included, so the span and the RED
    # observation cover everything and the 500 handler's log line carries the trace.
    instrument_app(app, telemetry)
    return app


async def open_database(
    settings: Settings, telemetry: Telemetry, stack: AsyncExitStack
) -> AsyncEngine:
    """The `users` engine, instrumented, checked for migrations and for readiness."""
    return await open_engine(
        create_engine(
            settings.database_url.get_secret_value(),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_seconds=settings.db_pool_timeout_seconds,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        ),
        telemetry,
        stack,
        pool_name="users",
        startup_check=require_head if settings.require_migrated_database else None,
    )


def open_redis(settings: Settings, telemetry: Telemetry, stack: AsyncExitStack) -> Redis:
    """The Redis client, instrumented and checked (critical only if the settings say so)."""
    redis = create_redis(
        settings.redis_url.get_secret_value(),
        timeout_seconds=settings.redis_timeout_seconds,
        max_connections=settings.redis_max_connections,
    )
    stack.push_async_callback(redis.aclose)
    instrument_redis(redis, telemetry)

    async def redis_answers() -> None:
        await redis.ping()

    telemetry.health.add_check("redis", redis_answers, critical=settings.readiness_requires_redis)
    return redis


def redis_user_cache(settings: Settings, telemetry: Telemetry, redis: Redis) -> RedisUserCache:
    """The shared (Redis) tier of the user cache; its invalidations reach every near cache."""
    return RedisUserCache(
        redis,
        observer=CacheCounters(telemetry.metrics.cache_requests, cache=CACHE_NAME),
        ttl_seconds=settings.cache_ttl_seconds,
        ttl_jitter_ratio=settings.cache_ttl_jitter_ratio,
        negative_ttl_seconds=settings.cache_negative_ttl_seconds,
        retry_after_seconds=settings.cache_retry_after_seconds,
    )


def start_orders_consumer(
    consumer: OrderEventsConsumer,
    telemetry: Telemetry,
    stack: AsyncExitStack,
    *,
    kafka_critical: bool,
) -> None:
    """Start ``consumer``; SIGTERM's drain and the stack stop it after the record in hand.

    Call it after opening the engine it writes through: the stack then stops it (committing
    its offsets) before disposing of that engine. ``kafka_critical``: whether a consumer cut off
    from Kafka turns readiness false (in the consumer's own process, whose only work it is).
    """
    consumer.start()
    telemetry.lifecycle.on_drain("orders consumer", consumer.stop)
    stack.push_async_callback(consumer.stop)
    telemetry.health.add_check("orders consumer", consumer.check, critical=kafka_critical)


async def _build_services(
    settings: Settings, telemetry: Telemetry, stack: AsyncExitStack
) -> Services:
    engine = await open_database(settings, telemetry, stack)
    redis = open_redis(settings, telemetry, stack)
    keys = await asyncio.to_thread(load_keys, settings)
    hasher = await asyncio.to_thread(
        Argon2PasswordHasher,
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.password_hashing_concurrency,
    )
    metrics = telemetry.metrics
    cache: UserCache = redis_user_cache(settings, telemetry, redis)
    if settings.cache_near_enabled:
        near = NearUserCache(
            cache,
            observer=CacheCounters(metrics.cache_requests, cache=NEAR_CACHE_NAME),
            ttl_seconds=settings.cache_near_ttl_seconds,
            max_entries=settings.cache_near_max_entries,
        )
        listener = InvalidationListener(
            redis,
            near,
            ttl_seconds=settings.cache_near_ttl_seconds,
            retry_after_seconds=settings.cache_retry_after_seconds,
        )
        await listener.start(wait_seconds=settings.redis_timeout_seconds)
        # Stops before the Redis client it listens through is closed.
        stack.push_async_callback(listener.stop)
        telemetry.health.add_check("cache invalidations", listener.check, critical=False)
        cache = near
    return Services(
        engine=engine,
        cache=cache,
        hasher=hasher,
        keys=keys,
        issuer=JwtIssuer(
            keys=keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.access_token_ttl_seconds,
            clock=utc_now,
        ),
        verifier=JwtVerifier(
            keys=keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
            clock=utc_now,
        ),
        throttle=RedisLoginThrottle(
            redis,
            observer=CacheCounters(metrics.cache_requests, cache=THROTTLE_NAME),
            per_email=Limit(
                settings.token_rate_limit_per_email, settings.token_rate_limit_window_seconds
            ),
            per_client=Limit(
                settings.token_rate_limit_per_client, settings.token_rate_limit_window_seconds
            ),
        ),
        events=MetricUserEvents(metrics),
        clock=utc_now,
    )


async def serve(settings: Settings | None = None) -> None:
    """Run the service until SIGTERM, then drain in-flight requests, flush and return."""
    settings = settings or Settings()
    telemetry = setup(settings)
    app = create_app(settings, telemetry)
    limits = HttpLimits(
        max_request_line_bytes=settings.http_max_request_line_bytes,
        max_header_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        header_timeout_seconds=settings.http_header_timeout_seconds,
    )
    await serve_app(
        app,
        telemetry,
        host=settings.host,
        port=settings.port,
        loop="none",
        # httptools, with the limits uvicorn does not apply to it (api/http_limits.py).
        http=LimitedHttpToolsProtocol.with_limits(limits),
        timeout_keep_alive=settings.http_keepalive_timeout_seconds,
        limit_concurrency=settings.http_max_concurrency,
        proxy_headers=True,
        server_header=False,
    )
