"""`UnitOfWork` on one pooled connection and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from user_service.adapters.repository import SqlUserRepository


class SqlUnitOfWork:
    """Borrows a connection on enter and returns it on exit; uncommitted work rolls back.

    `read_only=True` is for use cases that read with one statement (a read by id, a page): the
    statement runs on its own in autocommit mode, which saves the BEGIN and ROLLBACK round trips
    around it — two of the three a cache miss would otherwise make. Such a unit refuses
    `commit()`, so a write can never rely on it for atomicity.
    """

    users: SqlUserRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        if self._read_only:
            # Client-side with asyncpg (no round trip); the pool restores the default level when
            # the connection is returned.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        self._connection = connection
        self.users = SqlUserRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # close() rolls back whatever was not committed and returns the connection.
            await connection.close()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() on a read-only unit of work")
        if self._connection is None:
            raise RuntimeError("commit() outside `async with uow`")
        await self._connection.commit()
