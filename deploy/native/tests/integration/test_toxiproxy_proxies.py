"""Traffic through a real Toxiproxy to real PostgreSQL, Redis, Kafka and an HTTP server.

Each proxy passes traffic untouched; a latency toxic adds the latency it names; a reset_peer or
timeout toxic cuts the client off; removing the toxic restores the path. The stack's Toxiproxy
is reused when it answers on 8474, else the built binary is started (and stopped afterwards).

PostgreSQL, Redis and HTTP go through proxies the tests create on free ports and delete again.
Kafka cannot: a client follows the broker's advertised address, which for the `user-kafka`
listener is that proxy's fixed port, so the Kafka test uses the declared `user-kafka` proxy
itself (a running stack's user service sees its Kafka connection cut for about a second).
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from threadline_native.components.toxiproxy import Toxiproxy
from threadline_native.net import port_is_open
from threadline_native.proxies import native_address
from threadline_native.stack import ensure_up, load_context, select, stop_components
from threadline_native.toxiproxy_api import ToxiproxyApi

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

LATENCY_MS = 300


@pytest.fixture(scope="module")
def toxiproxy(kafka_bootstrap: str) -> Iterator[ToxiproxyApi]:
    """The stack's Toxiproxy, or one started from the built binary for this module."""
    (component,) = select(load_context(), ["toxiproxy"])
    assert isinstance(component, Toxiproxy)
    started = []
    if not component.healthy():
        if not component.binary("toxiproxy-server").exists():
            pytest.skip("Toxiproxy is not built: run `make build-backends` (or `make up`) once")
        started = ensure_up([component], progress=False)
    try:
        yield ToxiproxyApi(component.url)
    finally:
        stop_components(started)


@pytest.fixture
def proxy_to(toxiproxy: ToxiproxyApi) -> Iterator[Callable[[str], tuple[str, str]]]:
    """`proxy_to("127.0.0.1:5432")` makes a proxy on a free port: (its name, its address)."""
    created: list[str] = []

    def create(upstream: str) -> tuple[str, str]:
        name = f"test-{uuid.uuid4().hex[:10]}"
        proxy = toxiproxy.create_proxy(name=name, listen="127.0.0.1:0", upstream=upstream)
        created.append(name)
        return name, str(proxy["listen"])

    yield create
    for name in created:
        toxiproxy.delete_proxy(name)


def _elapsed(action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


async def test_postgres_through_a_proxy_takes_latency_and_a_reset_then_recovers(
    toxiproxy: ToxiproxyApi, proxy_to: Callable[[str], tuple[str, str]], postgres_url: str
) -> None:
    name, address = proxy_to("127.0.0.1:5432")
    dsn = f"postgresql://threadline:threadline@{address}/postgres"
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT 41 + 1") == 42
        began = time.perf_counter()
        await connection.fetchval("SELECT 1")
        direct = time.perf_counter() - began

        toxiproxy.add_toxic(name, name="slow", kind="latency", attributes={"latency": LATENCY_MS})
        began = time.perf_counter()
        await connection.fetchval("SELECT 1")
        slowed = time.perf_counter() - began
        assert slowed - direct >= LATENCY_MS / 1000 * 0.9
        toxiproxy.remove_toxic(name, "slow")

        toxiproxy.add_toxic(name, name="cut", kind="reset_peer", attributes={"timeout": 0})
        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=10)
        toxiproxy.remove_toxic(name, "cut")
    finally:
        await connection.close(timeout=2)

    again = await asyncpg.connect(dsn)
    try:
        assert await again.fetchval("SELECT 1") == 1
    finally:
        await again.close()


def test_redis_through_a_proxy_times_out_under_a_timeout_toxic_then_recovers(
    toxiproxy: ToxiproxyApi, proxy_to: Callable[[str], tuple[str, str]], redis_url: str
) -> None:
    name, address = proxy_to("127.0.0.1:6379")
    client = redis.Redis.from_url(f"redis://{address}/0", socket_timeout=2)
    try:
        assert client.ping()
        direct = _elapsed(client.ping)
        toxiproxy.add_toxic(name, name="slow", kind="latency", attributes={"latency": LATENCY_MS})
        assert _elapsed(client.ping) - direct >= LATENCY_MS / 1000 * 0.9
        toxiproxy.remove_toxic(name, "slow")

        # timeout=0: data is dropped and the connection held open until the toxic goes.
        toxiproxy.add_toxic(name, name="cut", kind="timeout", attributes={"timeout": 0})
        with pytest.raises((redis.exceptions.TimeoutError, redis.exceptions.ConnectionError)):
            client.ping()
        toxiproxy.remove_toxic(name, "cut")
        assert client.ping()
    finally:
        client.close()


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet: the test reads the answers, not the server's log."""


@pytest.fixture
def http_upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_through_a_proxy_is_reset_and_disabled_then_restored(
    toxiproxy: ToxiproxyApi, proxy_to: Callable[[str], tuple[str, str]], http_upstream: str
) -> None:
    name, address = proxy_to(http_upstream)

    def get() -> bytes:
        with urllib.request.urlopen(f"http://{address}/", timeout=3) as response:
            return bytes(response.read())

    assert get() == b"hello"
    direct = _elapsed(get)
    toxiproxy.add_toxic(name, name="slow", kind="latency", attributes={"latency": LATENCY_MS})
    assert _elapsed(get) - direct >= LATENCY_MS / 1000 * 0.9
    toxiproxy.remove_toxic(name, "slow")

    toxiproxy.add_toxic(name, name="cut", kind="reset_peer", attributes={"timeout": 0})
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        get()
    toxiproxy.remove_toxic(name, "cut")
    assert get() == b"hello"

    toxiproxy.set_enabled(name, enabled=False)
    port = int(address.rsplit(":", 1)[1])
    assert not port_is_open(port)
    toxiproxy.set_enabled(name, enabled=True)
    assert get() == b"hello"


def test_populating_again_keeps_an_identical_proxy_and_its_toxics(
    toxiproxy: ToxiproxyApi, proxy_to: Callable[[str], tuple[str, str]]
) -> None:
    name, address = proxy_to("127.0.0.1:6379")
    toxiproxy.add_toxic(name, name="slow", kind="latency", attributes={"latency": 5})
    document = f'[{{"name": "{name}", "listen": "{address}", "upstream": "127.0.0.1:6379"}}]'
    toxiproxy.populate(document)
    assert [toxic["name"] for toxic in toxiproxy.proxies()[name]["toxics"]] == ["slow"]


async def test_kafka_clients_reach_the_broker_only_through_their_proxy(
    toxiproxy: ToxiproxyApi, kafka_topic: Callable[..., Any]
) -> None:
    topic = await kafka_topic(partitions=1)
    bootstrap = native_address("user-kafka")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await producer.start()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        # The broker the metadata names is the proxy, not the broker's own port.
        brokers = {f"{b.host}:{b.port}" for b in producer.client.cluster.brokers()}
        assert brokers == {bootstrap}
        await producer.send_and_wait(topic, b"through the proxy")
        record = await asyncio.wait_for(consumer.getone(), timeout=20)
        assert record.value == b"through the proxy"

        toxiproxy.add_toxic("user-kafka", name="test-cut", kind="reset_peer", attributes={})
        try:
            with pytest.raises((KafkaError, asyncio.TimeoutError)):
                await asyncio.wait_for(producer.send_and_wait(topic, b"cut off"), timeout=5)
        finally:
            toxiproxy.remove_toxic("user-kafka", "test-cut")

        await asyncio.wait_for(producer.send_and_wait(topic, b"restored"), timeout=20)
        values = set()
        while b"restored" not in values:
            values.add((await asyncio.wait_for(consumer.getone(), timeout=20)).value)
    finally:
        await consumer.stop()
        await producer.stop()
