"""Fixtures for the order service's tests: a fake user service and the real server, live.

The fake user service (order_service.testing) is an httpx transport: it publishes a JWKS for a
test signing key and answers `GET /v1/users/{id}` with the account's state. The integration
server is the real one (`order_service.main.build`) on a fresh, migrated database, reached
over a real gRPC channel.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Telemetry
from order_service.adapters.migrations import upgrade_to_head
from order_service.main import build
from order_service.settings import Settings
from order_service.testing import (
    FakeUserService,
    RunningOrders,
    ServiceProcess,
    free_port,
    in_memory_telemetry,
)
from threadline_contracts.order.v1 import order_pb2_grpc
from threadline_native.component import Context
from threadline_native.components.kafka import Kafka
from threadline_native.paths import Layout, find_project_root
from threadline_native.proxies import declared_proxies, kafka_listeners
from threadline_native.stack import ensure_up, stop_components
from threadline_native.versions import load_versions
from threadline_testing.known_secrets import register_secret, register_signing_keys
from threadline_testing.plugin import DatabaseFactory
from threadline_testing.telemetry_sink import TelemetrySink
from user_service.adapters.migrations import upgrade_to_head as upgrade_users


@pytest.fixture
def user_service() -> FakeUserService:
    return FakeUserService()


@pytest.fixture
def telemetry() -> tuple[Telemetry, InMemorySpanExporter]:
    return in_memory_telemetry()


@pytest.fixture
def orders_settings_factory(database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "port": 0,
            "admin_enabled": False,
            "relay_enabled": False,
            "traces_sampler": "always_on",
            "user_service_url": "http://user.test",
            "user_check_backoff_initial_seconds": 0.001,
            "user_check_backoff_max_seconds": 0.005,
            "user_check_backoff_jitter_seconds": 0.001,
            **overrides,
        }
        return Settings(**values)

    return make


StartOrders = Callable[..., Awaitable[RunningOrders]]


@pytest_asyncio.fixture
async def start_orders(
    orders_settings_factory: Callable[..., Settings], user_service: FakeUserService
) -> AsyncIterator[StartOrders]:
    """A factory: `await start_orders(**settings)` runs the real server on a migrated database."""
    async with AsyncExitStack() as stack:
        migrated: set[str] = set()

        async def start(**overrides: Any) -> RunningOrders:
            settings = orders_settings_factory(**overrides)
            url = settings.database_url.get_secret_value()
            if url not in migrated:
                await asyncio.to_thread(upgrade_to_head, url)
                migrated.add(url)
            telemetry, spans = in_memory_telemetry()
            app = await build(
                settings,
                telemetry,
                stack,
                user_service_transport=httpx.MockTransport(user_service.handle),
            )
            telemetry.health.mark_started()
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
            stack.push_async_callback(channel.close)
            return RunningOrders(
                app=app,
                channel=channel,
                stub=order_pb2_grpc.OrderServiceStub(channel),
                telemetry=telemetry,
                spans=spans,
                settings=settings,
                user_service=user_service,
            )

        yield start


@pytest_asyncio.fixture
async def running_orders(
    start_orders: StartOrders, request: pytest.FixtureRequest
) -> RunningOrders:
    """The real order server (relay off); settings overrides by indirect parametrisation."""
    return await start_orders(**getattr(request, "param", {}))


# E2E: both services as real processes --------------------------------------------------------

PASSWORD = register_secret("correct horse battery staple", "password")


@dataclass
class E2EStack:
    """The user and order services as processes on fresh databases, one Redis db, one topic."""

    users: ServiceProcess
    orders: ServiceProcess
    topic: str
    grpc_target: str
    orders_database_url: str
    # What both export with (`telemetry_sink.kept_spans(stack.telemetry)` with keep_spans,
    # `kept_logs` with keep_logs).
    telemetry: dict[str, str]

    @property
    def users_url(self) -> str:
        return self.users.env["USER_BASE_URL"]

    def register(self, email: str) -> tuple[uuid.UUID, str]:
        """A new active user and an access token for it."""
        created = httpx.post(
            f"{self.users_url}/v1/users",
            json={"email": email, "full_name": "E2E", "password": PASSWORD},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        token = httpx.post(
            f"{self.users_url}/v1/auth/token",
            json={"email": email, "password": PASSWORD},
            timeout=10,
        )
        assert token.status_code == 200, token.text
        access_token = register_secret(token.json()["access_token"], "access token")
        return uuid.UUID(created.json()["id"]), access_token

    def user(self, user_id: uuid.UUID, token: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.users_url}/v1/users/{user_id}",
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def users_database_url(database_factory: DatabaseFactory) -> str:
    """The user service's database, next to `database_url` (the order service's)."""
    return database_factory()


LaunchStack = Callable[..., E2EStack]


def in_thread(function: Callable[[str], None], argument: str) -> None:
    """Run blocking code that starts its own event loop, even from inside a running one."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            function(argument)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture
def launch_stack(  # noqa: PLR0917 - fixtures arrive as parameters
    database_url: str,
    users_database_url: str,
    redis_db_url: str,
    kafka_bootstrap: str,
    tmp_path: Path,
    unique_name: str,
    telemetry_sink: TelemetrySink,
) -> Iterator[LaunchStack]:
    """`launch_stack(kafka=..., order_env=..., user_env=..., common_env=..., keep_spans=...,
    keep_logs=...)`: both services, started and ready, exporting to the session's sink;
    stopped (SIGTERM) afterwards."""
    started: list[ServiceProcess] = []

    def launch(
        *,
        kafka: str = kafka_bootstrap,
        order_env: dict[str, str] | None = None,
        user_env: dict[str, str] | None = None,
        common_env: dict[str, str] | None = None,
        keep_spans: bool = False,
        keep_logs: bool = False,
    ) -> E2EStack:
        topic = f"e2e.orders.{unique_name}"
        user_port, user_admin = free_port(), free_port()
        telemetry = telemetry_sink.environment(keep_spans=keep_spans, keep_logs=keep_logs)
        common = {**telemetry, **(common_env or {})}
        users_env = {
            **common,
            "USER_BASE_URL": f"http://127.0.0.1:{user_port}",
            "USER_HOST": "127.0.0.1",
            "USER_PORT": str(user_port),
            "USER_ADMIN_HOST": "127.0.0.1",
            "USER_ADMIN_PORT": str(user_admin),
            "USER_DATABASE_URL": users_database_url,
            "USER_REDIS_URL": redis_db_url,
            "USER_SIGNING_KEYS_DIR": str(tmp_path / "keys"),
            "USER_ARGON2_TIME_COST": "1",
            "USER_ARGON2_MEMORY_KIB": str(8 * 1024),
            "USER_KAFKA_BOOTSTRAP_SERVERS": kafka,
            "USER_ORDERS_TOPIC": topic,
            "USER_ORDERS_DLQ_TOPIC": f"{topic}.dlq",
            "USER_ORDERS_CONSUMER_GROUP": f"user-stats-{unique_name}",
            **(user_env or {}),
        }
        # In this process (a subprocess would pay the imports again): the schema each needs.
        in_thread(upgrade_users, users_database_url)
        users = ServiceProcess(
            "user-service",
            [sys.executable, "-m", "user_service.cli", "serve"],
            users_env,
            f"http://127.0.0.1:{user_admin}/readyz",
            tmp_path / "user-service.log",
        )
        started.append(users.start())
        register_signing_keys(tmp_path / "keys")
        order_port, order_admin = free_port(), free_port()
        orders_env = {
            **common,
            "ORDER_HOST": "127.0.0.1",
            "ORDER_PORT": str(order_port),
            "ORDER_ADMIN_HOST": "127.0.0.1",
            "ORDER_ADMIN_PORT": str(order_admin),
            "ORDER_DATABASE_URL": database_url,
            "ORDER_USER_SERVICE_URL": f"http://127.0.0.1:{user_port}",
            "ORDER_KAFKA_BOOTSTRAP_SERVERS": kafka,
            "ORDER_ORDERS_TOPIC": topic,
            **(order_env or {}),
        }
        in_thread(upgrade_to_head, database_url)
        orders = ServiceProcess(
            "order-service",
            [sys.executable, "-m", "order_service.cli", "serve"],
            orders_env,
            f"http://127.0.0.1:{order_admin}/readyz",
            tmp_path / "order-service.log",
        )
        started.append(orders.start())
        return E2EStack(
            users=users,
            orders=orders,
            topic=topic,
            grpc_target=f"127.0.0.1:{order_port}",
            orders_database_url=database_url,
            telemetry=telemetry,
        )

    yield launch
    for service in reversed(started):
        if service.process is not None and service.process.poll() is None:
            service.stop()


# A Kafka broker of the test's own, to stop and start without disturbing the shared one -----


def private_broker(context: Context, *, port: int, controller_port: int) -> Kafka:
    """The native stack's Kafka on other ports, its data and state in ``context``'s layout."""

    class PrivateBroker(Kafka):
        extra_ports = (controller_port,)

        def server_properties(self) -> Path:
            properties = super().server_properties()
            text = properties.read_text()
            text = text.replace("127.0.0.1:9092", f"127.0.0.1:{port}")
            text = text.replace("127.0.0.1:9094", f"127.0.0.1:{controller_port}")
            # The stack's broker holds the proxied listeners' ports; this one binds free ones.
            for listener in kafka_listeners(declared_proxies()):
                text = text.replace(f":{listener.port}", f":{free_port()}")
            properties.write_text(text)
            return properties

    PrivateBroker.port = port
    return PrivateBroker(context)


@dataclass
class PrivateKafka:
    broker: Kafka

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker.port}"

    def start(self) -> None:
        ensure_up([self.broker], progress=False)

    def stop(self) -> None:
        stop_components([self.broker])


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[PrivateKafka]:
    """A Kafka broker of this test's own, to stop and start without disturbing the shared one."""
    project = find_project_root(Path(__file__).parent)
    root = tmp_path / "kafka-root"
    root.mkdir()
    (root / "deploy").symlink_to(project / "deploy")
    layout = Layout(root)
    # The broker's jars come from the shared cache; a new layout would download them again.
    layout.cache_dir.mkdir(parents=True)
    for fetched in Layout(project).cache_dir.glob("kafka_*"):
        (layout.cache_dir / fetched.name).symlink_to(fetched)
    context = Context(layout=layout, versions=load_versions(layout.versions_file))
    kafka = PrivateKafka(private_broker(context, port=free_port(), controller_port=free_port()))
    kafka.start()
    yield kafka
    kafka.stop()
