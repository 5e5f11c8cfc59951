"""Both services as real processes, once for the whole suite, and the people who attack them.

PostgreSQL and Kafka come from the shared test plugin (libs/testing): a fresh database per
service and topics of the suite's own. Redis is a private `redis-server`, because the suite
asserts that no refused call leaves *any* key behind, which a logical database that other test
sessions may also pick cannot promise.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr
from redis.asyncio import Redis

from order_service.adapters.migrations import upgrade_to_head as upgrade_orders
from order_service.testing import ServiceProcess
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_native.net import free_port, redis_ping
from threadline_testing.known_secrets import register_secret, register_signing_keys
from threadline_testing.plugin import DatabaseFactory, short_id
from threadline_testing.telemetry_sink import TelemetrySink
from user_service.adapters.keys import KeyRing
from user_service.adapters.migrations import upgrade_to_head as upgrade_users
from user_service.admin import create_admin
from user_service.settings import Settings as UserSettings

from .canary import Canary
from .evidence import StateProbe
from .forgery import Forger
from .world import PASSWORD, Account, Cast, SecurityStack

ARGON2_TEST_COST = {"USER_ARGON2_TIME_COST": "1", "USER_ARGON2_MEMORY_KIB": str(8 * 1024)}


@pytest.fixture(scope="session")
def private_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed; run `make setup`")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=directory,
    )
    deadline = time.monotonic() + 10
    while not redis_ping(port):
        if time.monotonic() > deadline:
            process.terminate()
            pytest.fail("the private redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def security_stack(
    postgres_url: str,
    kafka_bootstrap: str,
    private_redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    telemetry_sink: TelemetrySink,
) -> AsyncIterator[SecurityStack]:
    """The user and order services on fresh databases, started side by side."""
    workdir = tmp_path_factory.mktemp("security")
    databases = DatabaseFactory(postgres_url)
    suffix = short_id()
    topic = f"security.orders.{suffix}"
    started: list[ServiceProcess] = []
    async with Canary() as canary:
        try:
            database_urls = {"users": databases(), "orders": databases()}
            # Alembic runs an event loop of its own: in a thread, one after the other (two at
            # once share SQLAlchemy's dialect state across their loops).
            await asyncio.to_thread(upgrade_users, database_urls["users"])
            await asyncio.to_thread(upgrade_orders, database_urls["orders"])
            # The sink listens on loopback, which the canary's no_proxy leaves direct.
            common = {**telemetry_sink.environment(), **canary.proxy_env()}
            user_port, user_admin = free_port(), free_port()
            users_url = f"http://127.0.0.1:{user_port}"
            users = ServiceProcess(
                "user-service",
                [sys.executable, "-m", "user_service.cli", "serve"],
                {
                    **common,
                    **ARGON2_TEST_COST,
                    "USER_HOST": "127.0.0.1",
                    "USER_PORT": str(user_port),
                    "USER_ADMIN_HOST": "127.0.0.1",
                    "USER_ADMIN_PORT": str(user_admin),
                    "USER_DATABASE_URL": database_urls["users"],
                    "USER_REDIS_URL": private_redis_url,
                    "USER_SIGNING_KEYS_DIR": str(workdir / "keys"),
                    "USER_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                    "USER_ORDERS_TOPIC": topic,
                    "USER_ORDERS_DLQ_TOPIC": f"{topic}.dlq",
                    "USER_ORDERS_CONSUMER_GROUP": f"security-{suffix}",
                },
                f"http://127.0.0.1:{user_admin}/readyz",
                workdir / "user-service.log",
            )
            order_port, order_admin = free_port(), free_port()
            orders = ServiceProcess(
                "order-service",
                [sys.executable, "-m", "order_service.cli", "serve"],
                {
                    **common,
                    "ORDER_HOST": "127.0.0.1",
                    "ORDER_PORT": str(order_port),
                    "ORDER_ADMIN_HOST": "127.0.0.1",
                    "ORDER_ADMIN_PORT": str(order_admin),
                    "ORDER_DATABASE_URL": database_urls["orders"],
                    "ORDER_USER_SERVICE_URL": users_url,
                    "ORDER_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                    "ORDER_ORDERS_TOPIC": topic,
                },
                f"http://127.0.0.1:{order_admin}/readyz",
                workdir / "order-service.log",
            )
            # The order service fetches the JWKS lazily: the two may start together.
            started += [users, orders]
            await asyncio.gather(asyncio.to_thread(users.start), asyncio.to_thread(orders.start))
            register_signing_keys(workdir / "keys")
            yield SecurityStack(
                users=users,
                orders=orders,
                users_url=users_url,
                grpc_target=f"127.0.0.1:{order_port}",
                order_metrics_url=f"http://127.0.0.1:{order_admin}/metrics",
                database_urls=database_urls,
                redis_url=private_redis_url,
                keys_dir=workdir / "keys",
                canary=canary,
            )
        finally:
            for service in reversed(started):
                if service.process is not None and service.process.poll() is None:
                    await asyncio.to_thread(service.stop)
            await asyncio.to_thread(databases.drop_all)
            await _delete_topics(kafka_bootstrap, [topic, f"{topic}.dlq"])


async def _delete_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if present := [topic for topic in topics if topic in existing]:
            await admin.delete_topics(present)
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def http(security_stack: SecurityStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the user service (no proxy from this process's environment)."""
    async with httpx.AsyncClient(
        base_url=security_stack.users_url, trust_env=False, timeout=10
    ) as client:
        yield client


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def channel(security_stack: SecurityStack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(
        security_stack.grpc_target, options=[("grpc.enable_http_proxy", 0)]
    ) as opened:
        yield opened


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def probe(
    security_stack: SecurityStack, http: httpx.AsyncClient
) -> AsyncIterator[StateProbe]:
    connections = {
        name: await asyncpg.connect(_dsn(url)) for name, url in security_stack.database_urls.items()
    }
    redis = Redis.from_url(security_stack.redis_url)
    try:
        yield StateProbe(connections, redis, http, security_stack.order_metrics_url)
    finally:
        await redis.aclose()
        for connection in connections.values():
            await connection.close()


async def _register(http: httpx.AsyncClient, name: str) -> Account:
    email = f"{name}-{short_id()}@example.com"
    created = await http.post(
        "/v1/users", json={"email": email, "full_name": name.title(), "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    return await _log_in(http, uuid.UUID(created.json()["id"]), email)


async def _log_in(http: httpx.AsyncClient, user_id: uuid.UUID, email: str) -> Account:
    token = await http.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return Account(user_id, email, register_secret(token.json()["access_token"], "access token"))


async def _place_order(channel: grpc.aio.Channel, account: Account) -> Account:
    response = await order_pb2_grpc.OrderServiceStub(channel).CreateOrder(
        order_pb2.CreateOrderRequest(
            idempotency_key=f"setup-{short_id()}",
            lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
        ),
        metadata=(("authorization", account.bearer),),
        timeout=10,
    )
    return Account(account.id, account.email, account.token, response.order.id)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def cast(
    security_stack: SecurityStack,
    http: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    probe: StateProbe,
) -> Cast:
    email = f"admin-{short_id()}@example.com"
    admin_id = await create_admin(
        UserSettings(
            database_url=SecretStr(security_stack.database_urls["users"]),
            argon2_time_cost=1,
            argon2_memory_kib=8 * 1024,
        ),
        email=email,
        full_name="Admin",
        password=PASSWORD,
    )
    admin = await _log_in(http, admin_id, email)
    victim, attacker, deactivated = await asyncio.gather(
        _register(http, "victim"), _register(http, "attacker"), _register(http, "deactivated")
    )
    victim, deactivated = await asyncio.gather(
        _place_order(channel, victim), _place_order(channel, deactivated)
    )
    answer = await http.patch(
        f"/v1/admin/users/{deactivated.id}",
        json={"is_active": False},
        headers={"authorization": admin.bearer},
    )
    assert answer.status_code == 200, answer.text
    # The consumer's statistics update invalidates the users' cache entries: first let it run.
    await probe.settle(expected_events=2)
    # Then every user's record in the cache, as the account checks will read them: a refused
    # CreateOrder asks the user service about its caller, which is a read, not a leftover.
    for account in (admin, victim, attacker, deactivated):
        read = await http.get(f"/v1/users/{account.id}", headers={"authorization": account.bearer})
        assert read.status_code == 200, read.text
    return Cast(
        admin=admin,
        victim=victim,
        attacker=attacker,
        deactivated=deactivated,
        forger=Forger(KeyRing.load_or_create(security_stack.keys_dir).active),
    )
