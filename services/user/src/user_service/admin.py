"""Creating the first admin, from the command line (the API never grants the admin role to a
caller who is not already an admin)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import TypeAdapter

from user_service.adapters.database import create_engine
from user_service.adapters.passwords import Argon2PasswordHasher
from user_service.adapters.unit_of_work import SqlUnitOfWork
from user_service.api.schemas import Email
from user_service.domain.users import Role, User
from user_service.service_layer.users import register_user
from user_service.settings import Settings


class _NoEvents:
    def user_registered(self, user: User) -> None:
        pass

    def login(self, outcome: str) -> None:
        pass


async def create_admin(
    settings: Settings, *, email: str, full_name: str, password: str
) -> uuid.UUID:
    """Register an admin with the same rules (email, password policy) as any user."""
    engine = create_engine(
        settings.database_url.get_secret_value(),
        pool_size=1,
        max_overflow=0,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    try:
        user = await register_user(
            uow=SqlUnitOfWork(engine),
            hasher=Argon2PasswordHasher(
                time_cost=settings.argon2_time_cost,
                memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
                concurrency=1,
            ),
            clock=lambda: datetime.now(UTC),
            events=_NoEvents(),
            email=TypeAdapter(Email).validate_python(email),
            full_name=full_name,
            password=password,
            role=Role.ADMIN,
        )
    finally:
        await engine.dispose()
    return user.id
