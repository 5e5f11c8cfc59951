"""The unit of work over a real PostgreSQL: the read-only kind runs each statement on its own
(no BEGIN/ROLLBACK round trips around a cache miss's one SELECT) and refuses to commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from user_service.adapters.database import create_engine
from user_service.adapters.unit_of_work import SqlUnitOfWork
from user_service.domain.users import User


@pytest_asyncio.fixture
async def engine(migrated_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        migrated_database_url,
        pool_size=1,
        max_overflow=0,
        pool_timeout_seconds=5,
        statement_timeout_ms=5000,
    )
    yield engine
    await engine.dispose()


async def _two_transaction_starts(uow: SqlUnitOfWork) -> set[object]:
    # now() is the start of the current transaction: one value per transaction. Asked through
    # the repository's connection, the one the unit of work lends it.
    starts = set()
    async with uow:
        for _ in range(2):
            result = await uow.users._connection.execute(text("SELECT now()"))
            starts.add(result.scalar_one())
            await asyncio.sleep(0.01)
    return starts


async def test_a_read_only_unit_runs_each_statement_in_its_own_transaction(
    engine: AsyncEngine,
) -> None:
    assert len(await _two_transaction_starts(SqlUnitOfWork(engine))) == 1
    assert len(await _two_transaction_starts(SqlUnitOfWork(engine, read_only=True))) == 2
    # The pooled connection went back with the default behaviour restored.
    assert len(await _two_transaction_starts(SqlUnitOfWork(engine))) == 1


async def test_a_read_only_unit_reads_and_refuses_to_commit(engine: AsyncEngine) -> None:
    user = User.register(email="ada@example.com", full_name="Ada", now=datetime.now(UTC))
    async with SqlUnitOfWork(engine) as uow:
        await uow.users.add(user, password_hash="not a real hash")
        await uow.commit()
    async with SqlUnitOfWork(engine, read_only=True) as uow:
        assert await uow.users.get(user.id) == user
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()
