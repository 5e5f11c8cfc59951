"""Order use cases: create (idempotently), get, list, cancel — always the caller's own orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from order_service.domain import lifecycle
from order_service.domain.access import Caller
from order_service.domain.errors import (
    FieldViolation,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    OrderNotFoundError,
)
from order_service.domain.orders import Order, OrderLine
from order_service.domain.requests import OrderRequest
from order_service.service_layer.pagination import decode_token, encode_token, page_size
from order_service.service_layer.ports import (
    Catalog,
    Clock,
    IdFactory,
    PageCursor,
    UnitOfWork,
    UserDirectory,
)


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    order: Order
    replayed: bool  # True: an earlier call with the same idempotency key created it


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    next_page_token: str


def _replay(existing: Order, request: OrderRequest, fingerprint: str) -> CreatedOrder:
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReusedError(request.idempotency_key)
    return CreatedOrder(order=existing, replayed=True)


async def create_order(
    *,
    uow: UnitOfWork,
    catalog: Catalog,
    users: UserDirectory,
    caller: Caller,
    request: OrderRequest,
    user_check_timeout_seconds: float,
    clock: Clock,
    new_id: IdFactory,
) -> CreatedOrder:
    """Place the caller's order once per idempotency key, priced from the catalog."""
    request.validate()
    fingerprint = request.fingerprint()
    async with uow:
        existing = await uow.orders.get_by_idempotency_key(
            user_id=caller.user_id, key=request.idempotency_key
        )
    # A retry is answered from what was stored, without asking the user service again.
    if existing is not None:
        return _replay(existing, request, fingerprint)

    # No connection is held while the user service answers.
    await users.ensure_active(caller, timeout_seconds=user_check_timeout_seconds)

    products = await catalog.products([line.product_id for line in request.lines])
    unknown = [
        FieldViolation(f"lines[{index}].product_id", f"no product {line.product_id!r}")
        for index, line in enumerate(request.lines)
        if line.product_id not in products
    ]
    if unknown:
        raise InvalidRequestError(unknown)
    lines = tuple(
        OrderLine(line.product_id, line.quantity, products[line.product_id].unit_price)
        for line in request.lines
    )
    if len({line.unit_price.currency_code for line in lines}) > 1:
        raise InvalidRequestError(
            [FieldViolation("lines", "all products of an order must share one currency")]
        )
    order, created = lifecycle.place_order(
        order_id=new_id(),
        user_id=caller.user_id,
        lines=lines,
        idempotency_key=request.idempotency_key,
        request_fingerprint=fingerprint,
        now=clock(),
        event_id=new_id(),
    )
    async with uow:
        if await uow.orders.add_if_new(order, event=created):
            return CreatedOrder(order=order, replayed=False)
        # A concurrent call with the same key won the race (the unique index decided).
        existing = await uow.orders.get_by_idempotency_key(
            user_id=caller.user_id, key=request.idempotency_key
        )
    if existing is None:  # pragma: no cover - the winner committed before our insert gave way
        raise RuntimeError("idempotency conflict without a stored order")
    return _replay(existing, request, fingerprint)


def parse_order_id(raw: str, *, field: str = "order_id") -> uuid.UUID:
    """The order id in ``raw``; INVALID_ARGUMENT-worthy when it is not a UUID."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidRequestError([FieldViolation(field, "must be a UUID")]) from None


async def get_order(*, uow: UnitOfWork, caller: Caller, order_id: str) -> Order:
    """One of the caller's orders; anyone else's is not found."""
    parsed = parse_order_id(order_id)
    async with uow:
        order = await uow.orders.get(user_id=caller.user_id, order_id=parsed)
    if order is None:
        raise OrderNotFoundError(order_id)
    return order


async def list_orders(
    *, uow: UnitOfWork, caller: Caller, requested_page_size: int, page_token: str
) -> OrderPage:
    """The caller's orders, newest first, one page at a time."""
    limit = page_size(requested_page_size)
    after = decode_token(page_token)
    async with uow:
        # One extra row tells whether another page follows without a count query.
        rows = list(
            await uow.orders.list_page(user_id=caller.user_id, after=after, limit=limit + 1)
        )
    orders, more = rows[:limit], len(rows) > limit
    next_token = (
        encode_token(PageCursor(created_at=orders[-1].created_at, order_id=orders[-1].id))
        if more
        else ""
    )
    return OrderPage(orders=orders, next_page_token=next_token)


@dataclass(frozen=True, slots=True)
class CancelledOrder:
    order: Order
    changed: bool  # False: it was cancelled already


async def cancel_order(
    *,
    uow: UnitOfWork,
    users: UserDirectory,
    caller: Caller,
    order_id: str,
    user_check_timeout_seconds: float,
    clock: Clock,
    new_id: IdFactory,
) -> CancelledOrder:
    """Cancel one of the caller's orders; cancelling it again returns it unchanged."""
    parsed = parse_order_id(order_id)
    # A write, like CreateOrder: a deactivated account's unexpired token changes nothing. Asked
    # before the row is locked, so no lock is held while the user service answers.
    await users.ensure_active(caller, timeout_seconds=user_check_timeout_seconds)
    async with uow:
        order = await uow.orders.get_for_update(user_id=caller.user_id, order_id=parsed)
        if order is None:
            raise OrderNotFoundError(order_id)
        cancelled, event = lifecycle.cancel_order(order, now=clock(), event_id=new_id())
        if event is None:
            return CancelledOrder(order=order, changed=False)
        await uow.orders.update_status(cancelled)
        await uow.outbox.add(event)
        await uow.commit()
    return CancelledOrder(order=cancelled, changed=True)
