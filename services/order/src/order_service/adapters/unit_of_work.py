"""One transaction on the `orders` database, with the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from order_service.adapters.outbox import SqlOutbox
from order_service.adapters.repository import SqlCatalog, SqlOrderRepository


class SqlUnitOfWork:
    """``async with uow:`` opens a transaction; leaving without `commit` rolls it back.

    ``read_only=True`` runs each statement on its own (autocommit) and refuses `commit`: for
    the reads that need no snapshot across statements (GetOrder, ListOrders).

    ``on_outbox_commit`` runs after a commit that wrote outbox rows (it wakes the relay, so
    an event leaves within milliseconds instead of at the next poll).
    """

    orders: SqlOrderRepository
    catalog: SqlCatalog
    outbox: SqlOutbox

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        topic: str,
        on_outbox_commit: Callable[[], None] | None = None,
        read_only: bool = False,
    ) -> None:
        self._engine = engine
        self._topic = topic
        self._read_only = read_only
        self._on_outbox_commit = on_outbox_commit
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        self._connection = await self._engine.connect()
        if self._read_only:
            # One statement, no BEGIN/ROLLBACK round trips: reads see committed data anyway.
            await self._connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._transaction = await self._connection.begin()
        self.orders = SqlOrderRepository(self._connection)
        self.catalog = SqlCatalog(self._connection)
        self.outbox = SqlOutbox(self._connection, topic=self._topic)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._transaction is not None and self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            await self._connection.close()
            self._connection = self._transaction = None

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("commit() on a read-only unit of work, or outside `async with`")
        await self._transaction.commit()
        if self.outbox.added and self._on_outbox_commit is not None:
            self._on_outbox_commit()

    async def rollback(self) -> None:
        """Roll back and start a fresh transaction on the same connection."""
        assert self._connection is not None
        assert self._transaction is not None
        await self._transaction.rollback()
        self._transaction = await self._connection.begin()
        self.outbox.added = 0
