"""The order domain: request rules, fingerprints, totals and cancellation — no fixtures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from order_service.domain.errors import InvalidRequestError
from order_service.domain.lifecycle import cancel_order, place_order
from order_service.domain.money import Money
from order_service.domain.orders import Order, OrderLine, OrderStatus
from order_service.domain.requests import LineRequest, OrderRequest

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def request(key: str = "k", *lines: tuple[str, int]) -> OrderRequest:
    return OrderRequest(key, tuple(LineRequest(p, q) for p, q in lines or (("a", 1),)))


def fields(error: InvalidRequestError) -> set[str]:
    return {violation.field for violation in error.violations}


def test_a_valid_request_passes() -> None:
    request("order-1:retry.2_x", ("a", 1), ("b", 100)).validate()


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (request(""), {"idempotency_key"}),
        (request("has space"), {"idempotency_key"}),
        (request("k" * 65), {"idempotency_key"}),
        (OrderRequest("k", ()), {"lines"}),
        (request("k", ("a", 0)), {"lines[0].quantity"}),
        (request("k", ("a", 101)), {"lines[0].quantity"}),
        (request("k", ("", 1)), {"lines[0].product_id"}),
        (request("k", ("a", 1), ("a", 2)), {"lines[1].product_id"}),
        (OrderRequest("k", tuple(LineRequest(str(i), 1) for i in range(21))), {"lines"}),
    ],
)
def test_each_broken_rule_names_its_field(candidate: OrderRequest, expected: set[str]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        candidate.validate()
    assert fields(caught.value) == expected


def test_the_fingerprint_ignores_line_order_but_not_quantities() -> None:
    assert (
        request("k", ("a", 1), ("b", 2)).fingerprint()
        == request("k", ("b", 2), ("a", 1)).fingerprint()
    )
    assert request("k", ("a", 1)).fingerprint() != request("k", ("a", 2)).fingerprint()


def placed() -> Order:
    order, _ = place_order(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=(OrderLine("a", 2, Money("EUR", 250)), OrderLine("b", 1, Money("EUR", 1000))),
        idempotency_key="k",
        request_fingerprint="f",
        now=NOW,
        event_id=uuid.uuid4(),
    )
    return order


def test_the_total_is_the_sum_of_the_lines() -> None:
    assert placed().total == Money("EUR", 1500)


def test_cancelling_twice_changes_nothing_the_second_time() -> None:
    order = placed()
    cancelled, event = cancel_order(order, now=NOW, event_id=uuid.uuid4())
    assert cancelled.status is OrderStatus.CANCELLED
    assert event is not None
    assert event.order.total == order.total
    again, second_event = cancel_order(cancelled, now=NOW, event_id=uuid.uuid4())
    assert again is cancelled
    assert second_event is None


def test_amounts_in_different_currencies_do_not_add() -> None:
    with pytest.raises(ValueError, match="cannot add"):
        Money("EUR", 1).plus(Money("USD", 1))
