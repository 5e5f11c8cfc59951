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
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args={
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "order-service",
            },
            "timeout": pool_timeout_seconds,
        },
    )
