"""The data stores a benchmark runs against: the native stack's, started when absent.

Each benchmark works in a database of its own, made fresh and dropped afterwards, so it never
touches the services' data of a running stack.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator

import asyncpg

from threadline_native.stack import ensure_up, load_context, select

__all__ = [
    "POSTGRES_SERVER",
    "ensure_data_stores",
    "fresh_database",
    "fresh_database_blocking",
]

# The `postgres` maintenance database of the stack's server (asyncpg's URL form).
POSTGRES_SERVER = "postgresql://threadline:threadline@127.0.0.1:5432/postgres"


def ensure_data_stores(names: Iterable[str]) -> None:
    """Start those of `names` that do not answer yet; they stay up afterwards, as after make up."""
    wanted = list(names)
    if wanted:
        ensure_up(select(load_context(), wanted), progress=False)


@contextlib.asynccontextmanager
async def fresh_database(name: str) -> AsyncIterator[str]:
    """An empty database `name` (dropped first if a failed run left it): its SQLAlchemy URL."""
    url = await _create(name)
    try:
        yield url
    finally:
        await _drop(name)


@contextlib.contextmanager
def fresh_database_blocking(name: str) -> Iterator[str]:
    """`fresh_database` for code that is not on an event loop."""
    url = asyncio.run(_create(name))
    try:
        yield url
    finally:
        asyncio.run(_drop(name))


async def _create(name: str) -> str:
    admin = await asyncpg.connect(POSTGRES_SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    server = POSTGRES_SERVER.replace("postgresql://", "postgresql+asyncpg://")
    return server.rsplit("/", 1)[0] + f"/{name}"


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
