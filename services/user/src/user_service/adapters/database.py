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
        # SQL parameters stay out of every exception this engine raises: they are the row being
        # written (an email, a password hash), and the exception's text reaches logs and spans.
        hide_parameters=True,
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


def create_migration_engine(url: str) -> AsyncEngine:
    """The engine Alembic migrates through: default pool, parameters hidden like the service's."""
    return create_async_engine(url, hide_parameters=True)
