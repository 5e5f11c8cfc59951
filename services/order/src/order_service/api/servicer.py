"""order.v1.OrderService: authenticate, translate, call the use case, translate back.

Errors are not handled here: they leave as domain errors and `api.errors` maps them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import grpc
from opentelemetry.trace import Tracer

from order_service.adapters.metrics import OrderMetrics
from order_service.api.auth import TokenVerifier, authenticate
from order_service.api.convert import order_message, order_request
from order_service.domain.errors import DeadlineTooShortError
from order_service.service_layer import orders
from order_service.service_layer.ports import (
    Catalog,
    Clock,
    IdFactory,
    UnitOfWork,
    UserDirectory,
)
from threadline_contracts.order.v1 import order_pb2

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
# Kept back from the caller's deadline for our own work after the user check.
DEADLINE_RESERVE_SECONDS = 0.05


class OrderServicer:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        autocommit_uow_factory: Callable[[], UnitOfWork],
        catalog: Catalog,
        users: UserDirectory,
        verifier: TokenVerifier,
        user_check_timeout_seconds: float,
        clock: Clock,
        new_id: IdFactory,
        metrics: OrderMetrics,
        tracer: Tracer,
    ) -> None:
        self._uow_factory = uow_factory
        self._autocommit_uow_factory = autocommit_uow_factory
        self._catalog = catalog
        self._users = users
        self._verifier = verifier
        self._user_check_timeout = user_check_timeout_seconds
        self._clock = clock
        self._new_id = new_id
        self._metrics = metrics
        self._tracer = tracer

    def _user_check_budget(self, context: Context) -> float:
        """The configured timeout, shortened to what the caller's deadline leaves."""
        remaining: float | None = context.time_remaining()
        if remaining is None:
            return self._user_check_timeout
        budget = min(self._user_check_timeout, remaining - DEADLINE_RESERVE_SECONDS)
        if budget <= 0:
            raise DeadlineTooShortError("the deadline leaves no time to check the account")
        return budget

    async def CreateOrder(  # noqa: N802 - the gRPC method name
        self, request: order_pb2.CreateOrderRequest, context: Context
    ) -> order_pb2.CreateOrderResponse:
        caller = await authenticate(context, self._verifier)
        with self._tracer.start_as_current_span("create_order"):
            result = await orders.create_order(
                uow=self._autocommit_uow_factory(),
                catalog=self._catalog,
                users=self._users,
                caller=caller,
                request=order_request(request),
                user_check_timeout_seconds=self._user_check_budget(context),
                clock=self._clock,
                new_id=self._new_id,
            )
        (
            self._metrics.idempotent_replays if result.replayed else self._metrics.orders_created
        ).inc()
        return order_pb2.CreateOrderResponse(
            order=order_message(result.order), replayed=result.replayed
        )

    async def GetOrder(  # noqa: N802
        self, request: order_pb2.GetOrderRequest, context: Context
    ) -> order_pb2.Order:
        caller = await authenticate(context, self._verifier)
        with self._tracer.start_as_current_span("get_order"):
            order = await orders.get_order(
                uow=self._autocommit_uow_factory(), caller=caller, order_id=request.order_id
            )
        return order_message(order)

    async def ListOrders(  # noqa: N802
        self, request: order_pb2.ListOrdersRequest, context: Context
    ) -> order_pb2.ListOrdersResponse:
        caller = await authenticate(context, self._verifier)
        with self._tracer.start_as_current_span("list_orders"):
            page = await orders.list_orders(
                uow=self._autocommit_uow_factory(),
                caller=caller,
                requested_page_size=request.page_size,
                page_token=request.page_token,
            )
        return order_pb2.ListOrdersResponse(
            orders=[order_message(order) for order in page.orders],
            next_page_token=page.next_page_token,
        )

    async def CancelOrder(  # noqa: N802
        self, request: order_pb2.CancelOrderRequest, context: Context
    ) -> order_pb2.Order:
        caller = await authenticate(context, self._verifier)
        with self._tracer.start_as_current_span("cancel_order"):
            result = await orders.cancel_order(
                uow=self._uow_factory(),
                users=self._users,
                caller=caller,
                order_id=request.order_id,
                user_check_timeout_seconds=self._user_check_budget(context),
                clock=self._clock,
                new_id=self._new_id,
            )
        if result.changed:
            self._metrics.orders_cancelled.inc()
        return order_message(result.order)
