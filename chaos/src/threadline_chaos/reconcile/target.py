"""Where reconciliation reads: both databases and the Kafka broker, directly (not via proxies).

Reconciliation is an observer: it connects to PostgreSQL and Kafka themselves, not through the
Toxiproxy proxies the services use, so a toxic left by a drill cannot skew what it sees. The
addresses and credentials are the stack's own (the same in both modes, published on loopback).
"""

from __future__ import annotations

from dataclasses import dataclass

from threadline_native.components.kafka import Kafka
from threadline_native.components.postgres import PASSWORD, USER, Postgres


@dataclass(frozen=True)
class ReconcileTarget:
    order_database_url: str  # SQLAlchemy async URL of the order service's database
    user_database_url: str  # ... and of the user service's
    kafka_bootstrap_servers: str
    orders_topic: str = "orders.v1"
    dead_letter_topic: str = "orders.v1.dlq"

    @classmethod
    def for_stack(cls) -> ReconcileTarget:
        """The running stack's databases and broker."""
        server = f"postgresql+asyncpg://{USER}:{PASSWORD}@127.0.0.1:{Postgres.port}"
        return cls(
            order_database_url=f"{server}/orders",
            user_database_url=f"{server}/users",
            kafka_bootstrap_servers=f"127.0.0.1:{Kafka.port}",
        )
