"""OrderService over a real gRPC channel and a real PostgreSQL: statuses, details, ownership."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from sqlalchemy import text

from order_service.testing import RunningOrders
from threadline_contracts.order.v1 import order_pb2

pytestmark = pytest.mark.integration


def lines(*pairs: tuple[str, int]) -> list[order_pb2.CreateOrderLine]:
    return [order_pb2.CreateOrderLine(product_id=p, quantity=q) for p, q in pairs]


def details(error: grpc.aio.AioRpcError) -> dict[str, object]:
    """The google.rpc details of a failed call, by type name."""
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no details"
    found: dict[str, object] = {}
    for packed in status.details:
        for kind in (
            error_details_pb2.BadRequest,
            error_details_pb2.ErrorInfo,
            error_details_pb2.RetryInfo,
            error_details_pb2.ResourceInfo,
            error_details_pb2.PreconditionFailure,
        ):
            if packed.Is(kind.DESCRIPTOR):
                message = kind()
                packed.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    return found


async def create(
    orders: RunningOrders, user: uuid.UUID, key: str = "k1", *pairs: tuple[str, int]
) -> order_pb2.CreateOrderResponse:
    request = order_pb2.CreateOrderRequest(
        idempotency_key=key, lines=lines(*(pairs or (("coffee-beans-1kg", 2),)))
    )
    response: order_pb2.CreateOrderResponse = await orders.stub.CreateOrder(
        request, metadata=orders.auth(user), timeout=5
    )
    return response


async def test_create_prices_from_the_catalog_and_get_returns_the_same_order(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    created = await create(running_orders, user, "k1", ("coffee-beans-1kg", 2), ("french-press", 1))
    order = created.order
    assert not created.replayed
    assert order.user_id == str(user)
    assert order.status == order_pb2.ORDER_STATUS_CREATED
    assert [(line.product_id, line.unit_price.minor_units) for line in order.lines] == [
        ("coffee-beans-1kg", 2490),
        ("french-press", 3450),
    ]
    assert order.total == order_pb2.Money(currency_code="EUR", minor_units=2 * 2490 + 3450)
    fetched = await running_orders.stub.GetOrder(
        order_pb2.GetOrderRequest(order_id=order.id), metadata=running_orders.auth(user)
    )
    assert fetched == order


async def test_the_order_and_its_event_are_written_in_one_transaction(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    order = (await create(running_orders, user)).order
    async with running_orders.app.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT key, headers FROM outbox"))).all()
    assert len(rows) == 1
    key, headers = rows[0]
    assert key == str(user).encode()
    assert headers["event-type"] == "order.created"
    # The trace context of the CreateOrder call travels with the event.
    server_span = next(
        span
        for span in running_orders.spans.get_finished_spans()
        if span.name.endswith("CreateOrder")
    )
    assert headers["traceparent"].split("-")[1] == format(server_span.context.trace_id, "032x")
    assert order.id


async def test_calls_without_a_valid_token_are_unauthenticated(
    running_orders: RunningOrders,
) -> None:
    bad = [
        (),
        (("authorization", "Basic dXNlcjpwYXNz"),),
        (("authorization", "Bearer not-a-jwt"),),
        (("authorization", f"Bearer {running_orders.user_service.token(aud='someone-else')}"),),
        (("authorization", f"Bearer {running_orders.user_service.token(iss='evil')}"),),
    ]
    for metadata in bad:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running_orders.stub.ListOrders(order_pb2.ListOrdersRequest(), metadata=metadata)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED, metadata
        assert details(caught.value)["ErrorInfo"].reason == "INVALID_TOKEN"  # type: ignore[attr-defined]


@pytest.mark.parametrize("running_orders", [{"jwks_min_refetch_seconds": 0}], indirect=True)
async def test_a_rotated_signing_key_is_fetched_on_first_sight(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    await running_orders.stub.ListOrders(
        order_pb2.ListOrdersRequest(), metadata=running_orders.auth(user)
    )
    fetched_before = running_orders.user_service.jwks_requests
    running_orders.user_service.rotate()
    await running_orders.stub.ListOrders(
        order_pb2.ListOrdersRequest(), metadata=running_orders.auth(user)
    )
    assert running_orders.user_service.jwks_requests == fetched_before + 1


async def test_another_users_order_is_not_found(running_orders: RunningOrders) -> None:
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    order = (await create(running_orders, owner)).order
    for call in (
        running_orders.stub.GetOrder(
            order_pb2.GetOrderRequest(order_id=order.id), metadata=running_orders.auth(stranger)
        ),
        running_orders.stub.CancelOrder(
            order_pb2.CancelOrderRequest(order_id=order.id), metadata=running_orders.auth(stranger)
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    listed = await running_orders.stub.ListOrders(
        order_pb2.ListOrdersRequest(), metadata=running_orders.auth(stranger)
    )
    assert list(listed.orders) == []


async def test_invalid_requests_name_every_offending_field(running_orders: RunningOrders) -> None:
    user = uuid.uuid4()
    request = order_pb2.CreateOrderRequest(
        idempotency_key="",
        lines=lines(("coffee-beans-1kg", 0), ("coffee-beans-1kg", 101), ("x" * 65, 1)),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.CreateOrder(request, metadata=running_orders.auth(user))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request = details(caught.value)["BadRequest"]
    assert {v.field for v in bad_request.field_violations} == {  # type: ignore[attr-defined]
        "idempotency_key",
        "lines[0].quantity",
        "lines[1].product_id",
        "lines[1].quantity",
        "lines[2].product_id",
    }
    too_many = order_pb2.CreateOrderRequest(
        idempotency_key="k", lines=lines(*((f"p{i}", 1) for i in range(21)))
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.CreateOrder(too_many, metadata=running_orders.auth(user))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_unknown_products_are_refused_and_nothing_is_stored(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(running_orders, user, "k1", ("coffee-beans-1kg", 1), ("unobtainium", 1))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    (violation,) = details(caught.value)["BadRequest"].field_violations  # type: ignore[attr-defined]
    assert violation.field == "lines[1].product_id"
    async with running_orders.app.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM orders"))).scalar() == 0
        assert (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar() == 0


async def test_oversized_and_malformed_messages_are_refused(running_orders: RunningOrders) -> None:
    user = uuid.uuid4()
    huge = order_pb2.CreateOrderRequest(idempotency_key="k" * 20_000)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.CreateOrder(huge, metadata=running_orders.auth(user))
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    raw = running_orders.channel.unary_unary("/order.v1.OrderService/GetOrder")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await raw(b"\xff\xff\xff\xff", metadata=running_orders.auth(user))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_the_same_key_and_request_returns_the_same_order(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    first = await create(running_orders, user, "retry-1", ("french-press", 1), ("tea-sampler", 3))
    checks = running_orders.user_service.user_requests
    # The same lines in another order are the same request.
    again = await create(running_orders, user, "retry-1", ("tea-sampler", 3), ("french-press", 1))
    assert again.replayed
    assert again.order == first.order
    assert running_orders.user_service.user_requests == checks  # a replay asks no one


async def test_the_same_key_with_a_different_request_is_refused(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    await create(running_orders, user, "once", ("french-press", 1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(running_orders, user, "once", ("french-press", 2))
    assert caught.value.code() is grpc.StatusCode.ALREADY_EXISTS
    info = details(caught.value)["ErrorInfo"]
    assert info.reason == "IDEMPOTENCY_KEY_REUSED"  # type: ignore[attr-defined]
    # Keys belong to their user: someone else may use the same key.
    other = await create(running_orders, uuid.uuid4(), "once", ("french-press", 2))
    assert not other.replayed


async def test_concurrent_duplicates_create_one_order(running_orders: RunningOrders) -> None:
    user = uuid.uuid4()
    results = await asyncio.gather(*(create(running_orders, user, "burst") for _ in range(20)))
    assert len({result.order.id for result in results}) == 1
    assert sum(not result.replayed for result in results) == 1
    async with running_orders.app.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM orders"))).scalar() == 1
        assert (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar() == 1


async def test_list_pages_through_the_callers_orders_newest_first(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    ids = [(await create(running_orders, user, f"k{i}")).order.id for i in range(7)]
    seen: list[str] = []
    token = ""
    while True:
        page = await running_orders.stub.ListOrders(
            order_pb2.ListOrdersRequest(page_size=3, page_token=token),
            metadata=running_orders.auth(user),
        )
        assert len(page.orders) <= 3
        seen += [order.id for order in page.orders]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.ListOrders(
            order_pb2.ListOrdersRequest(page_token="forged!"), metadata=running_orders.auth(user)
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_cancel_is_idempotent_and_emits_one_event(running_orders: RunningOrders) -> None:
    user = uuid.uuid4()
    order = (await create(running_orders, user)).order
    request = order_pb2.CancelOrderRequest(order_id=order.id)
    first = await running_orders.stub.CancelOrder(request, metadata=running_orders.auth(user))
    second = await running_orders.stub.CancelOrder(request, metadata=running_orders.auth(user))
    assert first.status == second.status == order_pb2.ORDER_STATUS_CANCELLED
    assert first == second
    async with running_orders.app.engine.connect() as connection:
        types = (
            (
                await connection.execute(
                    text("SELECT headers->>'event-type' FROM outbox ORDER BY sequence")
                )
            )
            .scalars()
            .all()
        )
    assert types == ["order.created", "order.cancelled"]


async def test_an_inactive_account_cannot_order(running_orders: RunningOrders) -> None:
    user = uuid.uuid4()
    running_orders.user_service.inactive.add(user)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(running_orders, user)
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert details(caught.value)["ErrorInfo"].reason == "USER_NOT_ACTIVE"  # type: ignore[attr-defined]


async def test_a_deactivated_account_cannot_cancel_but_still_reads(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    order = (await create(running_orders, user)).order
    running_orders.user_service.inactive.add(user)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.CancelOrder(
            order_pb2.CancelOrderRequest(order_id=order.id), metadata=running_orders.auth(user)
        )
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert details(caught.value)["ErrorInfo"].reason == "USER_NOT_ACTIVE"  # type: ignore[attr-defined]
    # Reads of one's own orders are not gated on the account (README, "RPCs and statuses").
    unchanged = await running_orders.stub.GetOrder(
        order_pb2.GetOrderRequest(order_id=order.id), metadata=running_orders.auth(user)
    )
    assert unchanged == order


async def test_user_service_failures_are_retried_then_reported_unavailable(
    running_orders: RunningOrders,
) -> None:
    user = uuid.uuid4()
    running_orders.user_service.failures[:] = [503, 502]
    assert not (await create(running_orders, user, "a")).replayed  # third attempt succeeds
    running_orders.user_service.failures[:] = [503, 503, 503]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(running_orders, user, "b")
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    found = details(caught.value)
    assert found["ErrorInfo"].metadata["dependency"] == "user-service"  # type: ignore[attr-defined]
    assert "RetryInfo" in found
    registry = running_orders.telemetry.metrics.registry
    retried = registry.get_sample_value(
        "http_client_retries_total", {"peer": "user-service", "reason": "status_503"}
    )
    assert retried == 3  # two retries in the failed call, one in the first


async def test_a_deadline_too_short_for_the_work_is_deadline_exceeded(
    running_orders: RunningOrders,
) -> None:
    request = order_pb2.CreateOrderRequest(idempotency_key="k", lines=lines(("french-press", 1)))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running_orders.stub.CreateOrder(
            request, metadata=running_orders.auth(uuid.uuid4()), timeout=0.02
        )
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_health_follows_readiness_and_reflection_lists_the_service(
    running_orders: RunningOrders,
) -> None:
    health = health_pb2_grpc.HealthStub(running_orders.channel)
    request = health_pb2.HealthCheckRequest(service="order.v1.OrderService")
    status = None
    for _ in range(50):
        # The health servicer publishes the first status once readiness is evaluated.
        with contextlib.suppress(grpc.aio.AioRpcError):
            status = (await health.Check(request)).status
        if status == health_pb2.HealthCheckResponse.SERVING:
            break
        await asyncio.sleep(0.1)
    assert status == health_pb2.HealthCheckResponse.SERVING
    running_orders.telemetry.health.start_draining()
    await asyncio.sleep(0.05)
    assert (await health.Check(request)).status == health_pb2.HealthCheckResponse.NOT_SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(running_orders.channel)
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    async for response in responses:
        names = {service.name for service in response.list_services_response.service}
        assert "order.v1.OrderService" in names
        break
