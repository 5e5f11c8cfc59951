"""Opaque cursors for keyset pagination: the id of the last user of the previous page."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from user_service.domain.errors import InvalidCursorError

T = TypeVar("T")

_PREFIX = b"u1:"  # versioned, so the cursor format can change without misreading old ones


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(_PREFIX + last_id.bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor stands for; `InvalidCursorError` for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursorError from None
    if not raw.startswith(_PREFIX) or len(raw) != len(_PREFIX) + 16:
        raise InvalidCursorError
    return uuid.UUID(bytes=raw[len(_PREFIX) :])
