"""`UnitOfWork` on one pooled connection and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from user_service.adapters.repository import SqlUserRepository


class SqlUnitOfWork:
    """Borrows a connection on enter and returns it on exit; uncommitted work rolls back."""

    users: SqlUserRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        self._connection = await self._engine.connect()
        self.users = SqlUserRepository(self._connection)
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
        if self._connection is None:
            raise RuntimeError("commit() outside `async with uow`")
        await self._connection.commit()
