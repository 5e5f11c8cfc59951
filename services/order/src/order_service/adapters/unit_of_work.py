"""Work on the `orders` database: one connection, with the repositories that use it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from order_service.adapters.outbox import SqlOutbox
from order_service.adapters.repository import SqlOrderRepository


class SqlUnitOfWork:
    """``async with uow:`` opens a transaction; leaving without `commit` rolls it back.

    ``autocommit=True`` runs each statement as its own transaction and refuses `commit`: for
    the work that is one statement at a time (GetOrder, ListOrders, and CreateOrder, whose
    order and outbox row are written by a single statement). It saves the BEGIN and
    COMMIT/ROLLBACK round trips.

    ``on_outbox_commit`` runs once outbox rows are committed (it wakes the relay, so an event
    leaves within milliseconds instead of at the next poll).
    """

    orders: SqlOrderRepository
    outbox: SqlOutbox

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        topic: str,
        on_outbox_commit: Callable[[], None] | None = None,
        autocommit: bool = False,
    ) -> None:
        self._engine = engine
        self._topic = topic
        self._autocommit = autocommit
        self._on_outbox_commit = on_outbox_commit
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        self._connection = await self._engine.connect()
        if self._autocommit:
            await self._connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._transaction = await self._connection.begin()
        self.outbox = SqlOutbox(self._connection, topic=self._topic)
        self.orders = SqlOrderRepository(self._connection, outbox=self.outbox)
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
        if self._autocommit:
            # Each statement committed as it ran.
            self._outbox_committed()

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("commit() in autocommit mode, or outside `async with`")
        await self._transaction.commit()
        self._outbox_committed()

    def _outbox_committed(self) -> None:
        if self.outbox.added and self._on_outbox_commit is not None:
            self._on_outbox_commit()
        self.outbox.added = 0
