"""The gRPC user of the order service: a returning customer shopping.

Locust runs users as gevent greenlets; grpcio's gevent integration (below, before any channel
exists) makes a blocking stub call yield to the other users instead of stalling the process.
It does so by waiting for each call's completion in a native thread of the gevent hub's
thread pool, which holds 10 threads by default: with more calls in flight than that, the
others queue inside the load generator, and that wait would be reported as the service's
latency. So the pool grows to one thread per running shopper (plus the hub's own needs).
Every call is reported to Locust's statistics under its full method name
(`order.v1.OrderService/CreateOrder`), the name the order service's spans and metrics use.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import ClassVar, TypeVar

import gevent  # type: ignore[import-untyped]  # gevent ships no type stubs
import grpc
import grpc.experimental.gevent
from google.protobuf.message import Message
from locust import User, constant_throughput, task
from locust.env import Environment

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_loadtests.accounts import Account
from threadline_loadtests.grpc_channel import open_channel
from threadline_loadtests.journeys import Journey
from threadline_loadtests.session import RequestContext, session_of

grpc.experimental.gevent.init_gevent()

__all__ = ["PRODUCTS", "FailedCallError", "Shopper"]

SERVICE = "order.v1.OrderService"
CREATE_ORDER = f"{SERVICE}/CreateOrder"
GET_ORDER = f"{SERVICE}/GetOrder"
LIST_ORDERS = f"{SERVICE}/ListOrders"
CANCEL_ORDER = f"{SERVICE}/CancelOrder"

# The order service's seeded catalog (its first migration).
PRODUCTS = (
    "coffee-beans-1kg",
    "espresso-cups-2",
    "french-press",
    "milk-frother",
    "grinder-manual",
    "kettle-gooseneck",
    "filter-papers-100",
    "tea-sampler",
)
RPC_TIMEOUT_SECONDS = 5.0
# Orders a shopper remembers to get or cancel later.
REMEMBERED_ORDERS = 20
# Threads of the hub's pool beyond one per shopper: gevent's own uses (DNS lookups), others.
SPARE_POOL_THREADS = 10

ResponseT = TypeVar("ResponseT", bound=Message)


class FailedCallError(Exception):
    """A failed call as the statistics show it: status code and details, nothing per-call."""

    def __init__(self, name: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{name}: {code.name}: {details}")
        self.code = code


class BrokenPromiseError(Exception):
    """The call succeeded, but its answer breaks the API's promise."""


def _paced(user: Shopper) -> float:
    return float(constant_throughput(user.session.options.user_rps)(user))


class Shopper(User):
    """Creates orders with idempotency keys, lists and reads them, cancels some."""

    journey: ClassVar[Journey] = Journey.ORDERS
    weight = 1
    wait_time = _paced
    # Shoppers started in this process: each may have a call in flight at any time.
    started: ClassVar[int] = 0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.session = session_of(environment)

    def on_start(self) -> None:
        Shopper.started += 1
        pool = gevent.get_hub().threadpool
        pool.maxsize = max(pool.maxsize, Shopper.started + SPARE_POOL_THREADS)
        self.account: Account = self.session.account_pool().next()
        self.channel = open_channel(self.session.options.grpc_target)
        self.stub = order_pb2_grpc.OrderServiceStub(self.channel)
        self.orders: deque[str] = deque(maxlen=REMEMBERED_ORDERS)
        self.last_create: tuple[order_pb2.CreateOrderRequest, str] | None = None

    def on_stop(self) -> None:
        self.channel.close()

    def call(
        self,
        name: str,
        method: Callable[..., ResponseT],
        request: Message,
        *,
        check: Callable[[ResponseT], str | None] | None = None,
    ) -> ResponseT | None:
        """One traced call, reported to Locust; None when it failed.

        `check` returns what is wrong with a successful answer, if anything: a call that
        succeeds with an answer breaking the API's promise is a failure too.
        """
        session = self.session
        token = session.account_pool().token_for(self.account)
        rpc_method = name.rsplit("/", 1)[1]
        attributes = {"rpc.system": "grpc", "rpc.service": SERVICE, "rpc.method": rpc_method}
        with session.tracer.client_call(name, attributes=attributes) as traced:
            metadata = (*traced.headers.items(), ("authorization", f"Bearer {token}"))
            response: ResponseT | None = None
            failure: Exception | None = None
            code = grpc.StatusCode.OK
            started = time.perf_counter()
            try:
                response = method(request, metadata=metadata, timeout=RPC_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                code = error.code()
                failure = FailedCallError(name, code, error.details() or "")
                traced.failed(code.name)
            elapsed_ms = (time.perf_counter() - started) * 1000
            length = response.ByteSize() if response is not None else 0
            problem = check(response) if response is not None and check is not None else None
            if problem is not None:
                failure = BrokenPromiseError(f"{name}: {problem}")
                traced.failed(problem)
                response = None
            traced.set_attribute("rpc.grpc.status_code", code.value[0])
            self.environment.events.request.fire(
                request_type="gRPC",
                name=name,
                response_time=elapsed_ms,
                response_length=length,
                response=response,
                context=RequestContext(
                    self.journey, traced.trace_id, traced.sampled
                ).as_locust_context(),
                exception=failure,
            )
        return response

    @task(3)
    def create_order(self) -> None:
        lines = [
            order_pb2.CreateOrderLine(product_id=product, quantity=random.randint(1, 3))  # noqa: S311
            for product in random.sample(PRODUCTS, k=random.randint(1, 3))  # noqa: S311
        ]
        request = order_pb2.CreateOrderRequest(idempotency_key=uuid.uuid4().hex, lines=lines)
        created = self.call(CREATE_ORDER, self.stub.CreateOrder, request)
        if created is not None:
            self.orders.append(created.order.id)
            self.last_create = (request, created.order.id)

    @task(1)
    def retry_create_order(self) -> None:
        """A client retrying after a lost answer: same key, same request, same order back."""
        if self.last_create is None:
            return self.create_order()
        request, order_id = self.last_create

        def same_order(response: order_pb2.CreateOrderResponse) -> str | None:
            if response.replayed and response.order.id == order_id:
                return None
            return f"a retry with the same idempotency key did not return order {order_id}"

        self.call(CREATE_ORDER, self.stub.CreateOrder, request, check=same_order)
        return None

    @task(4)
    def list_orders(self) -> None:
        self.call(LIST_ORDERS, self.stub.ListOrders, order_pb2.ListOrdersRequest(page_size=10))

    @task(6)
    def get_order(self) -> None:
        if not self.orders:
            return self.create_order()
        order_id = random.choice(self.orders)  # noqa: S311
        self.call(GET_ORDER, self.stub.GetOrder, order_pb2.GetOrderRequest(order_id=order_id))
        return None

    @task(1)
    def cancel_order(self) -> None:
        if not self.orders:
            return self.create_order()
        order_id = self.orders.popleft()

        def is_cancelled(order: order_pb2.Order) -> str | None:
            if order.status == order_pb2.ORDER_STATUS_CANCELLED:
                return None
            return f"order {order_id} is not cancelled"

        self.call(
            CANCEL_ORDER,
            self.stub.CancelOrder,
            order_pb2.CancelOrderRequest(order_id=order_id),
            check=is_cancelled,
        )
        return None
