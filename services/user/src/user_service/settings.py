"""Every setting of the user service, from `USER_*` environment variables.

Observability settings are inherited (`USER_LOG_LEVEL`, `USER_ADMIN_PORT`, ...) and the
standard `OTEL_*` variables are honoured under their own names. With
`USER_ENVIRONMENT=production` the service refuses to start on a development default
(`production_refusals`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Final
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from observability.settings import ObservabilitySettings

#: The password deploy/compose/compose.yaml and the native stack give PostgreSQL.
COMPOSE_DATABASE_PASSWORD: Final = "threadline"  # noqa: S105 - known in order to refuse it
#: Where development keeps its generated keys (.threadline/state/user/keys, natively too).
DEVELOPMENT_STATE_DIR: Final = ".threadline"


class Settings(ObservabilitySettings):
    model_config = SettingsConfigDict(
        env_prefix="USER_", extra="ignore", populate_by_name=True, frozen=True
    )

    default_service_name: ClassVar[str] = "user"

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Loopback by default, like the API; the container image sets both hosts to 0.0.0.0.
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(default=9101, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    # The latency SLO's threshold, 99% of requests within it (deploy/compose/prometheus/rules/
    # slo.rules.yml, le="0.25"; a unit test holds the two equal): a slower request writes its
    # access line even when its trace is sampled out (observability.access_policy).
    latency_objective_seconds: float = Field(default=0.25, gt=0)
    # What one client may hold of the server (services/user/README.md, "Limits"). The request
    # target (path and query) over its limit is a 414; the request line and headers together
    # over theirs, or more header fields than allowed, a 431.
    http_max_request_line_bytes: int = Field(default=8 * 1024, ge=256)
    http_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    http_max_headers: int = Field(default=100, ge=8)
    # From a connection's opening (or a request's first byte) to the end of its headers.
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    # From the request's start (its headers complete) to the body's last byte.
    http_body_timeout_seconds: float = Field(default=20.0, gt=0)
    # An idle keep-alive connection is closed after this.
    http_keepalive_timeout_seconds: float = Field(default=5.0, gt=0)
    # Open connections (or running requests) per process; a request beyond it is a 503.
    http_max_concurrency: int = Field(default=1000, ge=1)
    # After SIGTERM, keep serving this long with /readyz already 503: requests that reached a
    # connection but were not read yet are still answered, and a load balancer has time to
    # notice. Kubernetes wants ~5 s here; 0.5 s covers a single host.
    shutdown_drain_delay_seconds: float = Field(default=0.5, ge=0)

    # PostgreSQL
    database_url: SecretStr = SecretStr(
        "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/users"
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=5000, gt=0)

    # Redis: cache and login throttle
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # Bounds every wait on Redis: a pooled connection, a connect, a reply.
    redis_timeout_seconds: float = Field(default=0.5, gt=0)
    redis_max_connections: int = Field(default=32, ge=1)
    cache_ttl_seconds: float = Field(default=300.0, gt=0)
    cache_ttl_jitter_ratio: float = Field(default=0.1, ge=0, lt=1)
    cache_negative_ttl_seconds: float = Field(default=30.0, gt=0)
    cache_retry_after_seconds: float = Field(default=1.0, ge=0)
    # Near cache: recently read users kept in process memory in front of Redis, each for at most
    # cache_near_ttl_seconds. Changes reach every replica's near cache over Redis pub/sub within
    # milliseconds; the TTL bounds how stale a read can be when that news cannot travel (Redis
    # down or partitioned). Off: every read asks Redis.
    cache_near_enabled: bool = True
    cache_near_ttl_seconds: float = Field(default=2.0, gt=0)
    cache_near_max_entries: int = Field(default=10_000, ge=1)
    # Redis is always checked and reported by /readyz; by default its failure does not turn
    # readiness false, because reads fall back to PostgreSQL: failing every replica's readiness
    # at once would turn a cache outage into a full one.
    readiness_requires_redis: bool = False
    token_rate_limit_per_email: int = Field(default=10, ge=1)
    token_rate_limit_per_client: int = Field(default=60, ge=1)
    token_rate_limit_window_seconds: int = Field(default=60, ge=1)

    # Access tokens
    jwt_issuer: str = "threadline-user"
    jwt_audience: str = "threadline"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    jwt_leeway_seconds: float = Field(default=30.0, ge=0)
    # Ed25519 keys: from PEM strings when given (the first signs), else from this directory,
    # where a first key is generated on first start.
    signing_keys_dir: Path = Path(".threadline/state/user/keys")
    signing_keys_pem: list[SecretStr] = Field(default_factory=list)

    # argon2id, for 2 cores: OWASP's 19 MiB / t=2 / p=1 point, at most 2 hashes at once (one
    # per core). Raising them is safe at any time: old hashes are upgraded at the next login.
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hashing_concurrency: int = Field(default=2, ge=1)

    # Startup
    require_migrated_database: bool = True

    # The orders.v1 consumer keeping each user's order statistics (issue 5), in the API's
    # process. False where it runs as a process of its own (`user-service consume`, which
    # serves its admin port on orders_consumer_admin_port instead).
    orders_consumer_enabled: bool = True
    orders_consumer_admin_port: int = Field(default=9104, ge=0, le=65535)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    orders_topic: str = "orders.v1"
    orders_dlq_topic: str = "orders.v1.dlq"
    orders_consumer_group: str = "user-order-stats"
    # Attempts before a record that keeps failing goes to the dead-letter topic.
    orders_consumer_max_attempts: int = Field(default=5, ge=1)
    orders_consumer_retry_backoff_seconds: float = Field(default=0.2, ge=0)

    def production_refusals(self) -> list[str]:
        """The development defaults production refuses: the compose database password, and a
        signing key that is the development one or would be generated at start."""
        refusals = super().production_refusals()
        password = urlsplit(self.database_url.get_secret_value()).password
        if password is not None and unquote(password) == COMPOSE_DATABASE_PASSWORD:
            refusals.append(
                f"{self.env_name('database_url')}: its password is the compose default; "
                "give the database user a password of its own"
            )
        refusals.extend(self._signing_key_refusals())
        return refusals

    def _signing_key_refusals(self) -> list[str]:
        if self.signing_keys_pem:
            return []
        pem, directory = self.env_name("signing_keys_pem"), self.env_name("signing_keys_dir")
        if DEVELOPMENT_STATE_DIR in self.signing_keys_dir.parts:
            return [
                f"{pem}: no signing key is configured, and {directory} is the development "
                f"key's directory ({self.signing_keys_dir}); set {pem}, or {directory} to a "
                "directory holding the production keys"
            ]
        # Every replica would generate a key of its own and refuse the others' tokens.
        if not any(self.signing_keys_dir.glob("*.pem")):
            return [
                f"{directory}: {self.signing_keys_dir} holds no signing key, and production "
                f"does not generate one; create it with `user-service rotate-key` outside "
                f"production and ship it, or set {pem}"
            ]
        return []
