"""A statement PostgreSQL refuses: the error names the statement, never the values it carried.

Both engines the service creates (the one it serves with and the one Alembic migrates through)
hide SQL parameters, so what a caller sent is in no exception text, hence in no log line or span.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from order_service.adapters.database import create_engine, create_migration_engine

pytestmark = pytest.mark.integration


def _service_engine(url: str) -> AsyncEngine:
    return create_engine(
        url, pool_size=1, max_overflow=0, pool_timeout_seconds=5, statement_timeout_ms=5000
    )


@pytest.fixture(params=[_service_engine, create_migration_engine], ids=["service", "migrations"])
async def engine(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[AsyncEngine]:
    make: Callable[[str], AsyncEngine] = request.param
    engine = make(database_url)
    yield engine
    await engine.dispose()


async def test_a_refused_parameter_stays_out_of_the_error(engine: AsyncEngine) -> None:
    # A NUL character: valid in a Python string and in a protobuf string, refused by PostgreSQL.
    key = "idempotency-key-of-a-caller\x00"
    with pytest.raises(DBAPIError) as refused:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT length(:key)"), {"key": key})

    message = str(refused.value)
    assert "[SQL: SELECT length(" in message
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert "idempotency-key-of-a-caller" not in message
