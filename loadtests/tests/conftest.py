"""Fixtures of the load tests' own tests: both services as real processes, on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_loadtests.local_services import LocalServices, start_services
from threadline_native.net import free_port
from threadline_testing.known_secrets import register_signing_keys
from threadline_testing.plugin import DatabaseFactory
from threadline_testing.telemetry_sink import TelemetrySink


@pytest.fixture
def orders_database_url(database_factory: DatabaseFactory) -> str:
    """A second fresh database (the order service's), next to `database_url` (the user service's).

    The services keep their Alembic histories in one table name each, so they cannot share one.
    """
    return database_factory()


@pytest.fixture
def services(
    database_url: str,
    orders_database_url: str,
    redis_db_url: str,
    tmp_path: Path,
    telemetry_sink: TelemetrySink,
) -> Iterator[LocalServices]:
    """The user and order services as processes on loopback, exporting to the session's
    sink; stopped (SIGTERM) afterwards."""
    telemetry = telemetry_sink.environment()
    running = start_services(
        user_database_url=database_url,
        orders_database_url=orders_database_url,
        redis_url=redis_db_url,
        ports=(free_port(), free_port(), free_port(), free_port()),
        workdir=tmp_path,
        # Behaviour, not password-hashing cost, is under test.
        user_env={
            **telemetry,
            "USER_ARGON2_TIME_COST": "1",
            "USER_ARGON2_MEMORY_KIB": str(8 * 1024),
            # Its consumer would join the running stack's group on the shared broker's
            # orders.v1 and take the stack's events into this test's database.
            "USER_ORDERS_CONSUMER_ENABLED": "false",
        },
        # The outbox relay (and so Kafka) is not what the load test's smoke test is about.
        order_env={**telemetry, "ORDER_RELAY_ENABLED": "false"},
    )
    register_signing_keys(tmp_path / "user-keys")
    yield running
    running.stop()
