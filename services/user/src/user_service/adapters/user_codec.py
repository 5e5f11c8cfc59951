"""The user as cached bytes: compact JSON that round-trips exactly."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

import orjson

from user_service.domain.users import OrderStats, Role, User

# A cached miss: the id is known not to exist (negative caching).
MISSING: Final = b"0"


def encode_user(user: User) -> bytes:
    return orjson.dumps(
        [
            str(user.id),
            user.email,
            user.full_name,
            user.role.value,
            user.is_active,
            user.created_at.isoformat(),
            user.updated_at.isoformat(),
            user.stats.order_count,
            user.stats.total_spent_cents,
        ]
    )


def decode_user(raw: bytes) -> User:
    """The user in `raw`; ValueError (or a subclass) for bytes we did not write."""
    (
        user_id,
        email,
        full_name,
        role,
        is_active,
        created_at,
        updated_at,
        order_count,
        total_spent_cents,
    ) = orjson.loads(raw)
    return User(
        id=uuid.UUID(user_id),
        email=email,
        full_name=full_name,
        role=Role(role),
        is_active=bool(is_active),
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
        stats=OrderStats(order_count=int(order_count), total_spent_cents=int(total_spent_cents)),
    )
