"""pytest plugin: real PostgreSQL, Redis and Kafka for every Threadline package's tests.

Loaded automatically (a `pytest11` entry point). Each server fixture reuses a server that already
answers on its standard port (a native `make up`, or compose) or starts one through the installed
data-store provider (`threadline_testing.data_stores`: the native stack tool registers one), and
stops at the end of the session only what it started itself (set
THREADLINE_TEST_KEEP_STACK=1 to leave them running for the next run). Per-test fixtures isolate
tests from one another, so they can run in any order:

- `database_url`: a fresh, empty PostgreSQL database, dropped afterwards
  (`database_factory()` makes more, e.g. one per service).
- `redis_db_url`: a Redis logical database, flushed before the test.
- `kafka_topic`: a factory of uniquely named topics, deleted afterwards.
- `unique_name`: a short unique string, e.g. for consumer group ids.

Tests that use any of these are marked `integration` automatically.

Telemetry of the service processes (session-wide, started only when a test asks for it):

- `telemetry_sink`: one OTLP/gRPC receiver on a free loopback port. Code that starts a service
  process adds ``telemetry_sink.environment()`` to its environment, so every span and log record
  the process makes arrives here (``keep_spans=True`` also keeps the spans, for
  ``telemetry_sink.kept_spans(env)``).
- At the end of the session everything received is scanned (`observability.leak_check`): for
  the values registered with `threadline_testing.known_secrets.register_secret` (passwords sent,
  tokens issued; `register_signing_keys(dir)` for a service's signing keys), JWTs,
  ``Bearer <token>``, PEM private keys, password hashes and email addresses not redacted. Any
  finding fails the run (exit status 1, even when every test passed) with one line per leak:
  kind, signal, field, service, trace id, the test that started the process, and the first
  four characters and length of the value, never the value.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import pytest
import pytest_asyncio
import redis
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from threadline_testing.data_stores import DataStores, load_data_stores
from threadline_testing.known_secrets import known_secrets

if TYPE_CHECKING:
    from threadline_testing.telemetry_sink import TelemetrySink

T = TypeVar("T")

_SERVER_FIXTURES = {"postgres_url", "redis_url", "kafka_bootstrap"}
_ISOLATING_FIXTURES = {"database_url", "database_factory", "redis_db_url", "kafka_topic"}
# Database 0 is left to the services of a running stack; tests take turns on the others.
_redis_databases = itertools.cycle(range(1, 16))
_TELEMETRY_SINK = pytest.StashKey["TelemetrySink"]()
_TELEMETRY_REPORT = pytest.StashKey[list[str]]()
_CURRENT_TEST = pytest.StashKey[str]()


class _StartedServers:
    """Remembers which servers this test session started, to stop exactly those."""

    def __init__(self, data_stores: DataStores) -> None:
        self._data_stores = data_stores
        self._lock = threading.Lock()

    def ensure(self, name: str) -> None:
        with self._lock:
            self._data_stores.ensure(name)

    def stop(self) -> None:
        if os.environ.get("THREADLINE_TEST_KEEP_STACK") != "1":
            self._data_stores.stop_started()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous fixture code, whatever loop is around."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def short_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def _threadline_servers() -> Iterator[_StartedServers]:
    servers = _StartedServers(load_data_stores())
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def postgres_url(_threadline_servers: _StartedServers) -> str:
    """SQLAlchemy URL of the `postgres` maintenance database on the shared server."""
    _threadline_servers.ensure("postgres")
    return "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def redis_url(_threadline_servers: _StartedServers) -> str:
    _threadline_servers.ensure("redis")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def kafka_bootstrap(_threadline_servers: _StartedServers) -> str:
    _threadline_servers.ensure("kafka")
    return "127.0.0.1:9092"


@pytest.fixture
def unique_name() -> str:
    return f"t{short_id()}"


class DatabaseFactory:
    """Creates fresh, empty databases on the shared server and drops them all at the end."""

    def __init__(self, postgres_url: str) -> None:
        self._postgres_url = postgres_url
        self._dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
        self._created: list[str] = []

    def __call__(self) -> str:
        """The SQLAlchemy URL of a new database."""
        name = f"test_{short_id()}"
        _run(self._execute(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self._postgres_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        while self._created:
            name = self._created.pop()
            _run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


@pytest.fixture
def database_factory(postgres_url: str) -> Iterator[DatabaseFactory]:
    """`database_factory()` makes one more empty database (e.g. one per service in an e2e test)."""
    factory = DatabaseFactory(postgres_url)
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> str:
    """A new empty database for this test; dropped (connections and all) afterwards."""
    return database_factory()


@pytest.fixture
def redis_db_url(redis_url: str) -> str:
    """A Redis logical database of its own for this test, flushed before it starts."""
    url = redis_url.rsplit("/", 1)[0] + f"/{next(_redis_databases)}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest_asyncio.fixture
async def kafka_topic(kafka_bootstrap: str) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """A factory: `await kafka_topic(partitions=1)` creates a unique topic, deleted afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def create(partitions: int = 1, prefix: str = "test") -> str:
        name = f"{prefix}.{short_id()}"
        await admin.create_topics([NewTopic(name, partitions, replication_factor=1)])
        created.append(name)
        return name

    try:
        yield create
    finally:
        if created:
            await admin.delete_topics(created)
        await admin.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test that needs a real server `integration`, so `-m "not integration"` works."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & (_SERVER_FIXTURES | _ISOLATING_FIXTURES) and "e2e" not in item.keywords:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def telemetry_sink(pytestconfig: pytest.Config) -> Iterator[TelemetrySink]:
    """The session's OTLP receiver; add ``telemetry_sink.environment()`` to a service's env."""
    # Imported here: a session that starts no service does not even load the OTLP receiver.
    from threadline_testing.telemetry_sink import TelemetrySink  # noqa: PLC0415

    stash = pytestconfig.stash
    sink = TelemetrySink(lambda: stash.get(_CURRENT_TEST, "a session fixture"))
    sink.start()
    stash[_TELEMETRY_SINK] = sink
    yield sink
    # Torn down after every fixture that launched a process with it: they have all stopped,
    # so their last batches are in.
    sink.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember which test is setting up: a launch is reported with the test that made it."""
    item.config.stash[_CURRENT_TEST] = item.nodeid


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Scan what the receiver got, once the session's fixtures are torn down; fail on a leak.

    trylast: pytest's own `pytest_sessionfinish` (the runner's) tears the session fixtures
    down, the receiver among them, so every process has flushed by then.
    """
    sink = session.config.stash.get(_TELEMETRY_SINK, None)
    if sink is None:
        return
    started = time.perf_counter()
    findings = sink.findings(known_secrets())
    session.config.stash[_TELEMETRY_REPORT] = sink.report(findings, time.perf_counter() - started)
    if findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_TELEMETRY_REPORT, None)
    if lines is None:
        return
    leaked = len(lines) > 1
    title = "telemetry leaks: the run fails" if leaked else "telemetry leak check"
    terminalreporter.write_sep("=", title, red=leaked, green=not leaked)
    for line in lines:
        terminalreporter.write_line(line)
