"""The ports the use cases talk through; adapters implement them, unit tests fake them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from order_service.domain.access import Caller
from order_service.domain.events import OrderCreated, OrderEvent
from order_service.domain.orders import Order, Product


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where a page of the newest-first order list continues."""

    created_at: datetime
    order_id: uuid.UUID


class OrderRepository(Protocol):
    async def get(self, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None: ...

    async def get_for_update(self, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None: ...

    async def get_by_idempotency_key(self, *, user_id: uuid.UUID, key: str) -> Order | None: ...

    async def add_if_new(self, order: Order, *, event: OrderCreated) -> bool:
        """Store the order and the event announcing it (in the outbox), atomically, unless the
        (user, idempotency key) pair exists; True when stored."""
        ...

    async def update_status(self, order: Order) -> None: ...

    async def list_page(
        self, *, user_id: uuid.UUID, after: PageCursor | None, limit: int
    ) -> Sequence[Order]: ...


class Catalog(Protocol):
    async def products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        """The active products among ``product_ids``; unknown ids are absent."""
        ...


class Outbox(Protocol):
    async def add(self, event: OrderEvent) -> None:
        """Store the event in the same transaction as the change it announces."""
        ...


class UnitOfWork(Protocol):
    @property
    def orders(self) -> OrderRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UserDirectory(Protocol):
    async def ensure_active(self, caller: Caller, *, timeout_seconds: float) -> None:
        """Return when the caller's account is active; raise `UserNotActiveError` or
        `DependencyUnavailableError` otherwise, within ``timeout_seconds``."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class IdFactory(Protocol):
    def __call__(self) -> uuid.UUID: ...
