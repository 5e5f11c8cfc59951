"""Cursors: opaque, round-tripping, and refused when not ours."""

from __future__ import annotations

import base64

import pytest

from user_service.domain.errors import InvalidCursorError
from user_service.domain.ids import new_user_id
from user_service.service_layer.pagination import decode_cursor, encode_cursor


def test_a_cursor_round_trips_to_its_id() -> None:
    user_id = new_user_id()
    cursor = encode_cursor(user_id)
    assert str(user_id) not in cursor
    assert decode_cursor(cursor) == user_id


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        "====",
        base64.urlsafe_b64encode(b"u1:short").decode(),
        base64.urlsafe_b64encode(b"v9:" + bytes(16)).decode(),
        "é",
    ],
)
def test_a_cursor_we_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)
