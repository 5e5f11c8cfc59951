"""The async engine for the `orders` database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(
    url: str,
    *,
    pool_size: int,
    max_overflow: int,
    pool_timeout_seconds: float,
    statement_timeout_ms: int,
) -> AsyncEngine:
    """An asyncpg engine whose statements cannot run longer than ``statement_timeout_ms``."""
    return create_async_engine(
        url,
        # SQL parameters stay out of every exception this engine raises: they are the row being
        # written (a caller's id, their idempotency key), and the exception's text reaches logs
        # and spans.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_seconds,
        # No pre-ping: it costs a round trip per checkout. A connection that died is
        # invalidated on its first error (mapped to UNAVAILABLE, safe to retry), and
        # connections are recycled before PostgreSQL or a proxy would drop them idle.
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "order-service",
            },
            "timeout": pool_timeout_seconds,
        },
    )


def create_migration_engine(url: str) -> AsyncEngine:
    """The engine Alembic migrates through: default pool, parameters hidden like the service's."""
    return create_async_engine(url, hide_parameters=True)
