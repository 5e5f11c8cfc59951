"""Composition root: `build` wires the service on an exit stack, `serve` runs it until SIGTERM.

Nothing here is module-global. `build` takes the collaborators a test may want to replace
(the user directory and the token verifier) as arguments; everything else it builds itself
and registers for closing on the stack, in reverse order of building. The pieces the outbox
relay's own process needs (`open_database`, `build_relay`, `start_relay`) are shared with
relay_main.py, which composes that process role from them.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import grpc
import httpx
from aiokafka import AIOKafkaProducer
from grpc_reflection.v1alpha import reflection
from sqlalchemy.ext.asyncio import AsyncEngine

from observability import Telemetry, setup
from observability.grpc import add_health_servicer, server_interceptors
from observability.httpx import instrument_client
from observability.sqlalchemy import open_engine
from order_service.adapters.catalog import CachedCatalog
from order_service.adapters.circuit_breaker import CircuitBreaker
from order_service.adapters.database import create_engine
from order_service.adapters.kafka_topics import ensure_topics
from order_service.adapters.metrics import OrderMetrics, RelayMetrics
from order_service.adapters.migrations import require_head
from order_service.adapters.outbox_backlog import OutboxBacklogWatch
from order_service.adapters.relay import OutboxRelay
from order_service.adapters.tokens import JwksTokenVerifier
from order_service.adapters.unit_of_work import SqlUnitOfWork
from order_service.adapters.user_directory import PEER, HttpUserDirectory
from order_service.api.deadline import DeadlineCeilingInterceptor
from order_service.api.draining import DrainingInterceptor
from order_service.api.errors import ErrorMappingInterceptor
from order_service.api.registration import SERVICE_NAME, add_order_service
from order_service.api.servicer import OrderServicer
from order_service.settings import Settings

_log = logging.getLogger(__name__)

REFLECTED_SERVICES: Final = (SERVICE_NAME, reflection.SERVICE_NAME, "grpc.health.v1.Health")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OrderApp:
    server: grpc.aio.Server
    port: int
    engine: AsyncEngine
    relay: OutboxRelay | None
    metrics: OrderMetrics


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """grpc.aio server options: what one client may hold of the server (README, "Limits")."""
    return [
        ("grpc.max_receive_message_length", settings.max_request_bytes),
        ("grpc.so_reuseport", 0),
        ("grpc.max_concurrent_streams", settings.grpc_max_concurrent_streams),
        # Soft and hard limit alike: between the two gRPC refuses only a random share.
        ("grpc.max_metadata_size", settings.grpc_max_metadata_bytes),
        ("grpc.absolute_max_metadata_size", settings.grpc_max_metadata_bytes),
        (
            "grpc.http2.min_ping_interval_without_data_ms",
            round(settings.grpc_min_ping_interval_seconds * 1000),
        ),
        ("grpc.http2.max_ping_strikes", settings.grpc_max_ping_strikes),
        ("grpc.keepalive_permit_without_calls", int(settings.grpc_keepalive_permit_without_calls)),
    ]


async def open_database(
    settings: Settings, telemetry: Telemetry, stack: AsyncExitStack
) -> AsyncEngine:
    """The `orders` engine, instrumented, checked for migrations and for readiness."""
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
        pool_name="orders",
        startup_check=require_head if settings.require_migrated_database else None,
    )


def build_relay(
    settings: Settings, telemetry: Telemetry, engine: AsyncEngine, metrics: RelayMetrics
) -> OutboxRelay:
    def producer() -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id="order-outbox-relay",
            # Idempotent and acknowledged by every in-sync replica: a retry inside the
            # producer never duplicates or reorders a partition's records.
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_batch_size=256 * 1024,
            # Unsent batches expire at half the publish timeout, so a failed publish leaves
            # nothing queued: the producer stops cleanly and never delivers a batch late.
            request_timeout_ms=int(settings.relay_publish_timeout_seconds * 500),
        )

    async def prepare() -> None:
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            {settings.orders_topic: settings.orders_topic_partitions},
        )

    return OutboxRelay(
        engine=engine,
        producer_factory=producer,
        prepare=prepare,
        telemetry=telemetry,
        metrics=metrics,
        batch_size=settings.relay_batch_size,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
        publish_timeout_seconds=settings.relay_publish_timeout_seconds,
        backoff_initial_seconds=settings.relay_backoff_initial_seconds,
        backoff_max_seconds=settings.relay_backoff_max_seconds,
    )


def start_relay(
    relay: OutboxRelay, telemetry: Telemetry, stack: AsyncExitStack, *, kafka_critical: bool
) -> None:
    """Start ``relay``; SIGTERM's drain and the stack stop it after its batch in flight.

    ``kafka_critical``: whether a relay cut off from Kafka turns readiness false. Not in the
    gRPC service (orders are accepted while Kafka is away: they wait in the outbox), but in
    the relay's own process, whose only work is publishing.
    """

    async def relay_connected() -> None:
        if not relay.connected:
            raise ConnectionError("the outbox relay is not connected to Kafka")

    telemetry.health.add_check("kafka", relay_connected, critical=kafka_critical)
    relay.start()
    telemetry.lifecycle.on_drain("outbox relay", relay.stop)
    stack.push_async_callback(relay.stop, 5.0)


async def build(
    settings: Settings,
    telemetry: Telemetry,
    stack: AsyncExitStack,
    *,
    user_service_transport: httpx.AsyncBaseTransport | None = None,
) -> OrderApp:
    """Build and start the gRPC server (and the relay); the stack stops and closes them."""
    metrics = OrderMetrics(telemetry.metrics)
    engine = await open_database(settings, telemetry, stack)

    # One pooled client for the user service: JWKS and account checks share its connections.
    http = httpx.AsyncClient(
        base_url=settings.user_service_url,
        limits=httpx.Limits(
            max_connections=settings.http_pool_connections,
            max_keepalive_connections=settings.http_pool_connections,
        ),
        transport=user_service_transport,
    )
    stack.push_async_callback(http.aclose)
    instrument_client(http, telemetry, peer=PEER)
    users = HttpUserDirectory(
        http,
        breaker=CircuitBreaker(
            PEER,
            failure_threshold=settings.breaker_failure_threshold,
            reset_seconds=settings.breaker_reset_seconds,
            observer=metrics,
        ),
        metrics=metrics,
        attempts=settings.user_check_attempts,
        attempt_timeout_seconds=settings.user_check_attempt_timeout_seconds,
        backoff_initial_seconds=settings.user_check_backoff_initial_seconds,
        backoff_max_seconds=settings.user_check_backoff_max_seconds,
        backoff_jitter_seconds=settings.user_check_backoff_jitter_seconds,
    )
    verifier = JwksTokenVerifier(
        http,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
        ttl_seconds=settings.jwks_ttl_seconds,
        min_refetch_seconds=settings.jwks_min_refetch_seconds,
    )

    relay = (
        build_relay(settings, telemetry, engine, RelayMetrics(telemetry.metrics))
        if settings.relay_enabled
        else None
    )
    wake = relay.wake if relay is not None else None

    servicer = OrderServicer(
        uow_factory=lambda: SqlUnitOfWork(
            engine, topic=settings.orders_topic, on_outbox_commit=wake
        ),
        autocommit_uow_factory=lambda: SqlUnitOfWork(
            engine, topic=settings.orders_topic, on_outbox_commit=wake, autocommit=True
        ),
        catalog=CachedCatalog(engine, ttl_seconds=settings.catalog_cache_seconds),
        users=users,
        verifier=verifier,
        user_check_timeout_seconds=settings.user_check_timeout_seconds,
        clock=utc_now,
        new_id=uuid.uuid4,
        metrics=metrics,
        tracer=telemetry.tracer("order_service"),
    )
    draining = DrainingInterceptor(frozenset({SERVICE_NAME}))
    server = grpc.aio.server(
        # Observability outermost, so its span and metric see the status finally chosen.
        interceptors=[
            *server_interceptors(telemetry),
            draining,
            DeadlineCeilingInterceptor(
                frozenset({SERVICE_NAME}), ceiling_seconds=settings.grpc_max_deadline_seconds
            ),
            ErrorMappingInterceptor(frozenset({SERVICE_NAME})),
        ],
        options=server_options(settings),
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    add_order_service(server, servicer)
    add_health_servicer(server, telemetry, services=[SERVICE_NAME])
    reflection.enable_server_reflection(REFLECTED_SERVICES, server)
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")

    await server.start()
    # Drain order: stop taking RPCs and finish those in flight (their outbox rows are then
    # committed), then let the relay publish what it can and stop.
    telemetry.lifecycle.on_drain("grpc", lambda left: draining.drain(server, left))
    stack.push_async_callback(server.stop, None)
    backlog = OutboxBacklogWatch(
        engine=engine, metrics=metrics, interval_seconds=settings.relay_metrics_interval_seconds
    )
    backlog.start()
    stack.push_async_callback(backlog.stop)
    if relay is not None:
        start_relay(relay, telemetry, stack, kafka_critical=False)
    return OrderApp(server=server, port=port, engine=engine, relay=relay, metrics=metrics)


async def serve(settings: Settings) -> None:
    """Run the service until SIGTERM/SIGINT, then drain and exit."""
    telemetry = setup(settings)
    # httpx logs every request at INFO: one line per account check says nothing the client
    # span and http_client_request_duration_seconds do not already say.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    async with AsyncExitStack() as stack:
        app = await build(settings, telemetry, stack)
        telemetry.mark_started()
        _log.info(
            "order service listening",
            extra={"grpc.port": app.port, "admin.port": settings.admin_port},
        )
        await telemetry.run_until_shutdown()
