"""Honest in-memory fakes of the service layer's ports, for unit tests (ours and a fork's).

Each keeps the rule its real adapter enforces — the repository refuses a taken email in any
case, the unit of work shows changes only after commit — so a use case that passes against
them has been tested against the rules, not against a mock's script.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from user_service.domain.errors import EmailTakenError, RateLimitedError
from user_service.domain.users import User
from user_service.service_layer.ports import UserLoader


class FakeUserRepository:
    """Dict-backed, with the table's rule: one account per email, compared case-insensitively."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, tuple[User, str]] = {}

    def _email_taken(self, email: str, *, by_other_than: uuid.UUID) -> bool:
        return any(
            user.email.lower() == email.lower() and user.id != by_other_than
            for user, _ in self.rows.values()
        )

    async def add(self, user: User, *, password_hash: str) -> None:
        if self._email_taken(user.email, by_other_than=user.id):
            raise EmailTakenError
        self.rows[user.id] = (user, password_hash)

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = self.rows.get(user_id)
        return None if row is None else row[0]

    async def get_with_password_hash(self, email: str) -> tuple[User, str] | None:
        return next(
            (
                (user, hashed)
                for user, hashed in self.rows.values()
                if user.email.lower() == email.lower()
            ),
            None,
        )

    async def list_after(self, *, after: uuid.UUID | None, limit: int) -> list[User]:
        users = sorted((user for user, _ in self.rows.values()), key=lambda user: user.id)
        return [user for user in users if after is None or user.id > after][:limit]

    async def update(self, user: User) -> None:
        if self._email_taken(user.email, by_other_than=user.id):
            raise EmailTakenError
        self.rows[user.id] = (user, self.rows[user.id][1])

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        self.rows[user_id] = (self.rows[user_id][0], password_hash)

    async def delete(self, user_id: uuid.UUID) -> bool:
        return self.rows.pop(user_id, None) is not None


class FakeUnitOfWork:
    """Changes become visible only on commit; leaving without commit drops them."""

    def __init__(self) -> None:
        self.committed = FakeUserRepository()
        self.users = FakeUserRepository()
        self.commits = 0

    async def __aenter__(self) -> Self:
        self.users = FakeUserRepository()
        self.users.rows = dict(self.committed.rows)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.users = self.committed

    async def commit(self) -> None:
        self.committed.rows = dict(self.users.rows)
        self.commits += 1


class FakeCache:
    """Cache-aside in a dict, remembering what it was asked."""

    def __init__(self) -> None:
        self.entries: dict[uuid.UUID, User | None] = {}
        self.loads = 0
        self.invalidated: list[uuid.UUID] = []

    async def get_or_load(self, user_id: uuid.UUID, load: UserLoader) -> User | None:
        if user_id in self.entries:
            return self.entries[user_id]
        self.loads += 1
        user = await load()
        self.entries[user_id] = user
        return user

    async def invalidate(self, user_id: uuid.UUID) -> None:
        self.entries.pop(user_id, None)
        self.invalidated.append(user_id)


class FakeHasher:
    """A cheap, salted stand-in for argon2 whose 'parameters' can be changed to test rehashing."""

    def __init__(self) -> None:
        self.version = 1
        self.verifications = 0
        self.decoy_verifications = 0

    async def hash(self, password: str) -> str:
        return f"v{self.version}${hashlib.sha256(password.encode()).hexdigest()}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return password_hash.split("$", 1)[1] == hashlib.sha256(password.encode()).hexdigest()

    async def verify_nothing(self, password: str) -> None:
        self.decoy_verifications += 1

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"v{self.version}$")


@dataclass
class FakeThrottle:
    limit: int = 1000
    attempts: dict[str, int] = field(default_factory=dict)

    async def check(self, *, email: str, client: str) -> None:
        for key in (f"email:{email.lower()}", f"client:{client}"):
            self.attempts[key] = self.attempts.get(key, 0) + 1
            if self.attempts[key] > self.limit:
                raise RateLimitedError(42)


@dataclass
class FakeEvents:
    registered: list[uuid.UUID] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def user_registered(self, user: User) -> None:
        self.registered.append(user.id)

    def login(self, outcome: str) -> None:
        self.logins.append(outcome)


@dataclass
class CacheCounts:
    """A cache's lookups by outcome (its `CacheObserver`), for assertions."""

    hits: int = 0
    misses: int = 0
    errors: int = 0

    def hit(self) -> None:
        self.hits += 1

    def miss(self) -> None:
        self.misses += 1

    def error(self) -> None:
        self.errors += 1


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    """Every port of the use cases, faked; a unit test's whole universe."""

    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    cache: FakeCache = field(default_factory=FakeCache)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    throttle: FakeThrottle = field(default_factory=FakeThrottle)
    events: FakeEvents = field(default_factory=FakeEvents)
    clock: FakeClock = field(default_factory=FakeClock)
