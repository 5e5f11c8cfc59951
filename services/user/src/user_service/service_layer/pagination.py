"""Opaque cursors for keyset pagination: the id of the last user of the previous page."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from user_service.domain.errors import InvalidCursorError

T = TypeVar("T")

_PREFIX = b"u1:"  # versioned, so the cursor format can change without misreading old ones

# Every cursor this module issues, and exactly those it accepts (the OpenAPI document states
# it): the prefix, 3 bytes, is 4 whole base64url characters and a 16-byte id 22 more, unpadded
# as issued (padding tolerated). Any string of this shape decodes to some id.
CURSOR_PATTERN: Final = (
    "^" + base64.urlsafe_b64encode(_PREFIX).decode("ascii") + "[A-Za-z0-9_-]{22}(?:==)?$"
)
_CURSOR_SHAPE: Final = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(_PREFIX + last_id.bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor stands for; `InvalidCursorError` for anything we did not issue."""
    # The shape first: base64 decoding alone would skip characters outside the alphabet.
    if _CURSOR_SHAPE.fullmatch(cursor) is None:
        raise InvalidCursorError
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return uuid.UUID(bytes=raw[len(_PREFIX) :])
