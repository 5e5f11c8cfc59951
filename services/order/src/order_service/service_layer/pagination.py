"""Page tokens: opaque to callers, a (created_at, id) keyset cursor to us."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Final

from order_service.domain.errors import FieldViolation, InvalidRequestError
from order_service.service_layer.ports import PageCursor

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
_MAX_TOKEN_LENGTH: Final = 200


def page_size(requested: int) -> int:
    """0 means the default; above the maximum is clamped (AIP-158); negative is refused."""
    if requested < 0:
        raise InvalidRequestError([FieldViolation("page_size", "must not be negative")])
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(cursor: PageCursor) -> str:
    raw = json.dumps({"t": cursor.created_at.isoformat(), "id": str(cursor.order_id)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> PageCursor | None:
    """The cursor in ``token``; None for the first page. A token we did not write is refused."""
    if not token:
        return None
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fields = json.loads(raw)
        created_at = datetime.fromisoformat(fields["t"])
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return PageCursor(created_at=created_at, order_id=uuid.UUID(fields["id"]))
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequestError(
            [FieldViolation("page_token", "is not a token this service returned")]
        ) from None
