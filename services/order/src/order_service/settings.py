"""Every setting of the order service, from `ORDER_*` environment variables.

Observability settings are inherited (`ORDER_LOG_LEVEL`, `ORDER_ADMIN_PORT`, ...) and the
standard `OTEL_*` variables are honoured under their own names. With
`ORDER_ENVIRONMENT=production` the service refuses to start on a development default
(`production_refusals`).
"""

from __future__ import annotations

from typing import ClassVar, Final
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from observability.settings import ObservabilitySettings

#: The password deploy/compose/compose.yaml and the native stack give PostgreSQL.
COMPOSE_DATABASE_PASSWORD: Final = "threadline"  # noqa: S105 - known in order to refuse it


class Settings(ObservabilitySettings):
    model_config = SettingsConfigDict(
        env_prefix="ORDER_", extra="ignore", populate_by_name=True, frozen=True
    )

    default_service_name: ClassVar[str] = "order"

    # gRPC
    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    admin_port: int = Field(default=9102, ge=0, le=65535)
    # Loopback unless told otherwise (the container image sets 0.0.0.0 for both).
    admin_host: str = "127.0.0.1"
    # Larger requests are refused by gRPC itself with RESOURCE_EXHAUSTED before any parsing.
    max_request_bytes: int = Field(default=16 * 1024, gt=0)
    max_concurrent_rpcs: int = Field(default=256, ge=1)
    # What one client may hold of the server (services/order/README.md, "Limits").
    # HTTP/2 streams (calls) open at once on one connection; a client honours it by queueing,
    # a stream beyond it is reset with REFUSED_STREAM.
    grpc_max_concurrent_streams: int = Field(default=100, ge=1)
    # Request metadata (headers) per call, in bytes; more is RESOURCE_EXHAUSTED.
    grpc_max_metadata_bytes: int = Field(default=8 * 1024, ge=1024)
    # Keepalive pings closer together than this (with no data between) are strikes; one strike
    # more than grpc_max_ping_strikes and the connection gets GOAWAY ENHANCE_YOUR_CALM.
    grpc_min_ping_interval_seconds: float = Field(default=30.0, gt=0)
    grpc_max_ping_strikes: int = Field(default=2, ge=1)
    # Whether pings are welcome on a connection with no call running at all.
    grpc_keepalive_permit_without_calls: bool = False
    # No call runs longer than this, whatever deadline the client set (or none):
    # DEADLINE_EXCEEDED naming this setting when it ends one.
    grpc_max_deadline_seconds: float = Field(default=30.0, gt=0)
    # The latency SLO's threshold, 99% of RPCs within it (deploy/compose/prometheus/rules/
    # slo.rules.yml, le="0.5"; a unit test holds the two equal): a slower RPC writes its access
    # line even when its trace is sampled out (observability.access_policy).
    latency_objective_seconds: float = Field(default=0.5, gt=0)

    # PostgreSQL
    database_url: SecretStr = SecretStr(
        "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/orders"
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=5000, gt=0)
    require_migrated_database: bool = True
    # The product catalog is served from memory; a price change reaches new orders within this.
    catalog_cache_seconds: float = Field(default=60.0, gt=0)

    # The user service: JWKS for access tokens, and the account check before an order.
    user_service_url: str = "http://127.0.0.1:8000"
    jwt_issuer: str = "threadline-user"
    jwt_audience: str = "threadline"
    jwt_leeway_seconds: float = Field(default=30.0, ge=0)
    jwks_ttl_seconds: float = Field(default=300.0, gt=0)
    # An unknown `kid` refetches the JWKS at most this often, so forged kids cannot flood it.
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=0)
    user_check_timeout_seconds: float = Field(default=2.0, gt=0)
    user_check_attempt_timeout_seconds: float = Field(default=0.5, gt=0)
    user_check_attempts: int = Field(default=3, ge=1)
    user_check_backoff_initial_seconds: float = Field(default=0.05, ge=0)
    user_check_backoff_max_seconds: float = Field(default=0.5, ge=0)
    user_check_backoff_jitter_seconds: float = Field(default=0.05, ge=0)
    http_pool_connections: int = Field(default=50, ge=1)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=5.0, gt=0)

    # Kafka and the outbox relay
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    orders_topic: str = "orders.v1"
    orders_topic_partitions: int = Field(default=3, ge=1)
    # The relay in the gRPC service's process. False where it runs as a process of its own
    # (`order-service relay`, which serves its admin port on relay_admin_port instead).
    relay_enabled: bool = True
    relay_admin_port: int = Field(default=9103, ge=0, le=65535)
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_idle_poll_seconds: float = Field(default=0.25, gt=0)
    relay_publish_timeout_seconds: float = Field(default=10.0, gt=0)
    relay_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    relay_backoff_max_seconds: float = Field(default=5.0, gt=0)
    relay_metrics_interval_seconds: float = Field(default=1.0, gt=0)

    def production_refusals(self) -> list[str]:
        """The development defaults production refuses: the compose database password (the
        order service signs nothing: it verifies the user service's keys)."""
        refusals = super().production_refusals()
        password = urlsplit(self.database_url.get_secret_value()).password
        if password is not None and unquote(password) == COMPOSE_DATABASE_PASSWORD:
            refusals.append(
                f"{self.env_name('database_url')}: its password is the compose default; "
                "give the database user a password of its own"
            )
        return refusals
