"""The text rule on every string field of an order.v1 request, named as a caller reads it."""

from __future__ import annotations

import pytest

from order_service.api.request_text import text_violations, undecodable_text_violations
from order_service.domain.errors import FieldViolation
from order_service.domain.text import text_problem
from threadline_contracts.order.v1 import order_pb2

NUL = "must not contain the NUL character"
NOT_UTF8 = "must be valid UTF-8 (no unpaired surrogate, no undecodable byte)"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("coffee-beans-1kg", None),
        ("café ☕", None),
        ("coffee\x00", NUL),
        ("coffee" + chr(0xDCFF), NOT_UTF8),
    ],
)
def test_text_is_refused_for_nul_and_unpaired_surrogates(value: str, problem: str | None) -> None:
    assert text_problem(value) == problem


def test_a_clean_request_has_no_violation() -> None:
    request = order_pb2.CreateOrderRequest(
        idempotency_key="k1",
        lines=[order_pb2.CreateOrderLine(product_id="french-press", quantity=1)],
    )
    assert text_violations(request) == []


def test_every_nul_is_named_by_its_field_path() -> None:
    request = order_pb2.CreateOrderRequest(
        idempotency_key="k\x00",
        lines=[
            order_pb2.CreateOrderLine(product_id="french-press", quantity=1),
            order_pb2.CreateOrderLine(product_id="\x00beans", quantity=1),
        ],
    )
    assert text_violations(request) == [
        FieldViolation("idempotency_key", NUL),
        FieldViolation("lines[1].product_id", NUL),
    ]
    assert text_violations(order_pb2.GetOrderRequest(order_id="\x00")) == [
        FieldViolation("order_id", NUL)
    ]


def _with_invalid_utf8(message: order_pb2.CreateOrderRequest, good: bytes, bad: bytes) -> bytes:
    raw = message.SerializeToString()
    assert raw.count(good) == 1
    return raw.replace(good, bad)


def test_a_byte_that_is_not_utf8_is_named_by_its_field_path() -> None:
    request = order_pb2.CreateOrderRequest(
        idempotency_key="k1",
        lines=[
            order_pb2.CreateOrderLine(product_id="french-press", quantity=1),
            order_pb2.CreateOrderLine(product_id="beans-x", quantity=2),
        ],
    )
    raw = _with_invalid_utf8(request, b"beans-x", b"beans-\xff")
    with pytest.raises(Exception, match="UTF-8"):
        order_pb2.CreateOrderRequest.FromString(raw)
    assert undecodable_text_violations(order_pb2.CreateOrderRequest, raw) == [
        FieldViolation("lines[1].product_id", NOT_UTF8)
    ]


def test_garbage_that_is_not_a_message_names_no_field() -> None:
    assert undecodable_text_violations(order_pb2.GetOrderRequest, b"\xff\xff\xff\xff") == []
