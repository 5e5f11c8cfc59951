"""Cursors: opaque, round-tripping, and refused when not ours."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from user_service.domain.errors import InvalidCursorError
from user_service.domain.ids import new_user_id
from user_service.service_layer.pagination import CURSOR_PATTERN, decode_cursor, encode_cursor


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
        # The right length and prefix, but characters base64 decoding would skip or misread.
        "dTE6" + "!" * 22,
        "dTE6" + "+/" * 11,
        encode_cursor(new_user_id()) + "\n",
    ],
)
def test_a_cursor_we_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_cursor_of_the_documented_shape_is_accepted(cursor: str) -> None:
    decode_cursor(cursor)


def test_issued_cursors_have_the_documented_shape() -> None:
    assert re.fullmatch(CURSOR_PATTERN, encode_cursor(new_user_id()))
