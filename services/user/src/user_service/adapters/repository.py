"""`UserRepository` on PostgreSQL, with SQLAlchemy Core queries over one connection.

The statements the request paths run (read by id, by email, update) are built once, here, with
bound parameters: SQLAlchemy then finds their compiled form by a cache key memoised on the
statement object, instead of constructing the statement and computing its key on every call
(about 4% of the service's CPU under the mixed load; docs/benchmarks/user.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from user_service.adapters.tables import EMAIL_UNIQUE_INDEX, users
from user_service.domain.errors import EmailTakenError
from user_service.domain.users import OrderStats, Role, User

_PROFILE_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.full_name,
    users.c.role,
    users.c.is_active,
    users.c.order_count,
    users.c.total_spent_cents,
    users.c.created_at,
    users.c.updated_at,
)

_GET_BY_ID = select(*_PROFILE_COLUMNS).where(users.c.id == bindparam("user_id"))
_GET_BY_EMAIL = select(*_PROFILE_COLUMNS, users.c.password_hash).where(
    func.lower(users.c.email) == func.lower(bindparam("email"))
)
# No SET list: it follows the column names among the parameters passed (`update`).
_UPDATE_PROFILE = update(users).where(users.c.id == bindparam("user_id"))


def _to_user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        role=Role(row.role),
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stats=OrderStats(order_count=row.order_count, total_spent_cents=row.total_spent_cents),
    )


def _is_email_conflict(error: IntegrityError) -> bool:
    return EMAIL_UNIQUE_INDEX in str(error.orig)


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: User, *, password_hash: str) -> None:
        statement = insert(users).values(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role.value,
            is_active=user.is_active,
            password_hash=password_hash,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        await self._execute_guarding_email(statement)

    async def get(self, user_id: uuid.UUID) -> User | None:
        result = await self._connection.execute(_GET_BY_ID, {"user_id": user_id})
        row = result.one_or_none()
        return None if row is None else _to_user(row)

    async def get_with_password_hash(self, email: str) -> tuple[User, str] | None:
        result = await self._connection.execute(_GET_BY_EMAIL, {"email": email})
        row = result.one_or_none()
        return None if row is None else (_to_user(row), row.password_hash)

    async def list_after(self, *, after: uuid.UUID | None, limit: int) -> list[User]:
        query = select(*_PROFILE_COLUMNS).order_by(users.c.id).limit(limit)
        if after is not None:
            query = query.where(users.c.id > after)
        result = await self._connection.execute(query)
        return [_to_user(row) for row in result]

    async def update(self, user: User) -> None:
        await self._execute_guarding_email(
            _UPDATE_PROFILE,
            {
                "user_id": user.id,
                "email": user.email,
                "full_name": user.full_name,
                "role": user.role.value,
                "is_active": user.is_active,
                "updated_at": user.updated_at,
            },
        )

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    async def delete(self, user_id: uuid.UUID) -> bool:
        result = await self._connection.execute(delete(users).where(users.c.id == user_id))
        return bool(result.rowcount)

    async def _execute_guarding_email(
        self, statement: Any, parameters: dict[str, Any] | None = None
    ) -> None:
        # The unique index is the only race-free check: two registrations of one address at
        # the same moment both pass any SELECT made first.
        try:
            await self._connection.execute(statement, parameters)
        except IntegrityError as error:
            if _is_email_conflict(error):
                raise EmailTakenError from None
            raise
