"""The user entity and its role; order statistics are a value object kept on the user."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from user_service.domain.ids import new_user_id


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class OrderStats:
    """What the order events told us about a user (filled by the orders.v1 consumer)."""

    order_count: int = 0
    total_spent_cents: int = 0


@dataclass(frozen=True, slots=True)
class User:
    """A registered user. The password hash is not part of it: it never leaves the repository
    except for the one use case that verifies it, and so it can never reach a cache or a log."""

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    stats: OrderStats = field(default_factory=OrderStats)

    @classmethod
    def register(cls, *, email: str, full_name: str, now: datetime, role: Role = Role.USER) -> User:
        """A new active user with a fresh time-ordered id."""
        return cls(
            id=new_user_id(),
            email=email,
            full_name=full_name,
            role=role,
            is_active=True,
            created_at=now,
            updated_at=now,
        )

    def changed(
        self,
        *,
        now: datetime,
        email: str | None = None,
        full_name: str | None = None,
        role: Role | None = None,
        is_active: bool | None = None,
    ) -> User:
        """A copy with the given fields changed (None leaves a field as it is)."""
        return replace(
            self,
            email=self.email if email is None else email,
            full_name=self.full_name if full_name is None else full_name,
            role=self.role if role is None else role,
            is_active=self.is_active if is_active is None else is_active,
            updated_at=now,
        )
