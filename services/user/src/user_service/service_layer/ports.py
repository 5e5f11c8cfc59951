"""What the use cases need from the outside world, as Protocols.

Adapters implement them against PostgreSQL, Redis, argon2 and JWT; unit tests implement them
with honest in-memory fakes (tests/unit/fakes.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from user_service.domain.access import Principal
from user_service.domain.users import User

Clock = Callable[[], datetime]
"""The current time, timezone-aware (UTC)."""


class UserRepository(Protocol):
    async def add(self, user: User, *, password_hash: str) -> None:
        """Insert a user; raise `EmailTakenError` when the email is taken (any case)."""

    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def get_with_password_hash(self, email: str) -> tuple[User, str] | None:
        """The user with this email (compared case-insensitively) and their password hash."""

    async def list_after(self, *, after: uuid.UUID | None, limit: int) -> list[User]:
        """Up to `limit` users with ids greater than `after`, in id (= creation) order."""

    async def update(self, user: User) -> None:
        """Store changed profile fields; raise `EmailTakenError` on a taken email."""

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None: ...

    async def delete(self, user_id: uuid.UUID) -> bool:
        """Delete the user; False when there was none."""


class UnitOfWork(Protocol):
    """One transaction: `async with uow: ...; await uow.commit()`; leaving uncommitted rolls
    back."""

    @property
    def users(self) -> UserRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UserLoader = Callable[[], Awaitable[User | None]]


class UserCache(Protocol):
    async def get_or_load(self, user_id: uuid.UUID, load: UserLoader) -> User | None:
        """The cached user, or `load()`'s answer (cached too, misses included)."""

    async def invalidate(self, user_id: uuid.UUID) -> None:
        """Forget the user after a change was committed."""


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when the password matches; False (never an exception) otherwise."""

    async def verify_nothing(self, password: str) -> None:
        """Spend the time a verification takes, for an email we do not know."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in_seconds: int


class TokenIssuer(Protocol):
    def issue(self, user: User) -> AccessToken: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal:
        """The token's principal; raise `InvalidTokenError` for anything but a valid token."""


class LoginThrottle(Protocol):
    async def check(self, *, email: str, client: str) -> None:
        """Count one attempt; raise `RateLimitedError` when the email or client is over limit."""


class UserEvents(Protocol):
    """Business events worth counting (metrics) — never carrying emails or secrets."""

    def user_registered(self, user: User) -> None: ...

    def login(self, outcome: str) -> None:
        """One token request by outcome: success, invalid_credentials or rate_limited."""
