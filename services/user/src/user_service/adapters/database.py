"""The async engine: asyncpg under SQLAlchemy 2, with a bounded pool."""

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
    """An engine whose every connection carries a statement timeout, so no query hangs."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_seconds,
        # Recycle before a NAT or PostgreSQL's idle timeout drops a pooled connection.
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "user-service",
            },
            "timeout": pool_timeout_seconds,
        },
    )
