"""A row PostgreSQL refuses: the error names the statement, never the values it carried.

Both engines the service creates (the one it serves with and the one Alembic migrates through)
hide SQL parameters, so the email and password hash of a refused registration are in no
exception text, hence in no log line or span.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from user_service.adapters.database import create_engine, create_migration_engine
from user_service.adapters.tables import users
from user_service.adapters.unit_of_work import SqlUnitOfWork
from user_service.domain.users import User

pytestmark = pytest.mark.integration

PASSWORD_HASH = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"


def _service_engine(url: str) -> AsyncEngine:
    return create_engine(
        url, pool_size=1, max_overflow=0, pool_timeout_seconds=5, statement_timeout_ms=5000
    )


@pytest.fixture(params=[_service_engine, create_migration_engine], ids=["service", "migrations"])
async def engine(
    request: pytest.FixtureRequest, migrated_database_url: str
) -> AsyncIterator[AsyncEngine]:
    make: Callable[[str], AsyncEngine] = request.param
    engine = make(migrated_database_url)
    yield engine
    await engine.dispose()


async def test_a_refused_registration_leaves_email_and_hash_out_of_the_error(
    engine: AsyncEngine,
) -> None:
    # A NUL character: valid in a Python string, refused by PostgreSQL's text types.
    user = User.register(email="ada@example.com", full_name="Ada\x00", now=datetime.now(UTC))
    async with SqlUnitOfWork(engine) as uow:
        with pytest.raises(DBAPIError) as refused:
            await uow.users.add(user, password_hash=PASSWORD_HASH)

    message = str(refused.value)
    assert "INSERT INTO users" in message
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    for value in ("ada@example.com", PASSWORD_HASH, "c2FsdHNhbHRzYWx0", "Ada\\x00"):
        assert value not in message
    async with engine.connect() as connection:
        assert (await connection.execute(select(users.c.id))).first() is None


async def test_a_parameter_the_server_cannot_read_stays_out_of_the_error(
    engine: AsyncEngine,
) -> None:
    with pytest.raises(DBAPIError) as refused:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT length(:note)"), {"note": "ada@example.com\x00"})

    assert "ada@example.com" not in str(refused.value)
    assert "hide_parameters=True" in str(refused.value)
