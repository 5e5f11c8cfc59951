"""Page tokens round-trip, and anything we did not write is INVALID_ARGUMENT-worthy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from order_service.domain.errors import InvalidRequestError
from order_service.service_layer.pagination import (
    MAX_PAGE_SIZE,
    decode_token,
    encode_token,
    page_size,
)
from order_service.service_layer.ports import PageCursor


def test_a_token_round_trips() -> None:
    cursor = PageCursor(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), uuid.uuid4())
    assert decode_token(encode_token(cursor)) == cursor
    assert decode_token("") is None


@pytest.mark.parametrize("token", ["!!!", "e30", "eyJ0IjoxfQ", "x" * 500, "bnVsbA"])
def test_a_token_we_did_not_write_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError):
        decode_token(token)


def test_page_sizes_default_clamp_and_refuse_negatives() -> None:
    assert page_size(0) == 20
    assert page_size(10**6) == MAX_PAGE_SIZE
    with pytest.raises(InvalidRequestError):
        page_size(-1)
