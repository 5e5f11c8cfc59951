"""The user journeys, driven through the real services, each under a trace id chosen here.

Every request carries a W3C `traceparent` with the sampled flag, so the services continue our
trace and we know which trace ids to look for in the backends afterwards.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import grpc

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError, request

# A product from the order service's seeded catalog.
PRODUCT_ID = "coffee-beans-1kg"
GRPC_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Journey:
    name: str
    trace_id: str
    # The services whose spans and log lines the trace must hold.
    services: tuple[str, ...]
    started_at: float
    # The PromQL a person opens to see this journey's requests among the others.
    red_query: str
    # What the entry service answered, for the table.
    outcome: str
    # The outbox relay publishes the order's event to Kafka inside this trace.
    crosses_kafka: bool = False
    # A refusal on purpose: the service that must log a warning or error line for it.
    refused_by: str | None = None
    # False when the service did not answer the way the journey expects.
    as_expected: bool = True


@dataclass(frozen=True)
class Credentials:
    user_id: str
    email: str
    password: str


@dataclass(frozen=True)
class Account:
    user_id: str
    access_token: str


class JourneyError(Exception):
    """A service answered a journey's request with an error, so there is no trace to check."""


def new_traceparent() -> tuple[str, str]:
    """A fresh sampled trace: its id, and the `traceparent` header that starts it."""
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def http_red_query(route: str, method: str) -> str:
    selector = f'{{service="user",route="{route}",method="{method}"}}'
    return f"sum by (status_class) (rate(http_server_request_duration_seconds_count{selector}[5m]))"


def grpc_red_query(method: str) -> str:
    selector = f'{{service="order",grpc_method="{method}"}}'
    return f"sum by (grpc_code) (rate(grpc_server_handling_seconds_count{selector}[5m]))"


def _expect(status: int, wanted: int, what: str, body: object) -> None:
    if status != wanted:
        raise JourneyError(f"{what} answered {status}: {body}")


def register(endpoints: Endpoints) -> tuple[Journey, Credentials]:
    """POST /v1/users; return the journey and the new user's id, email and password."""
    email = f"verify-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)
    trace_id, header = new_traceparent()
    started = time.time()
    status, body = request(
        "POST",
        f"{endpoints.user_api}/v1/users",
        body={"email": email, "full_name": "Verify Probe", "password": password},
        headers={"traceparent": header},
    )
    _expect(status, 201, "POST /v1/users", body)
    journey = Journey(
        "register (HTTP)",
        trace_id,
        ("user",),
        started,
        http_red_query("/v1/users", "POST"),
        f"{status}",
    )
    return journey, Credentials(str(body["id"]), email, password)


def log_in(endpoints: Endpoints, credentials: Credentials) -> tuple[Journey, Account]:
    """POST /v1/auth/token; return the journey and the account with its access token."""
    trace_id, header = new_traceparent()
    started = time.time()
    status, body = request(
        "POST",
        f"{endpoints.user_api}/v1/auth/token",
        body={"email": credentials.email, "password": credentials.password},
        headers={"traceparent": header},
    )
    _expect(status, 200, "POST /v1/auth/token", body)
    journey = Journey(
        "log in (HTTP)",
        trace_id,
        ("user",),
        started,
        http_red_query("/v1/auth/token", "POST"),
        f"{status}",
    )
    return journey, Account(credentials.user_id, str(body["access_token"]))


def read_user(endpoints: Endpoints, account: Account) -> Journey:
    """GET /v1/users/{id} with the account's token."""
    trace_id, header = new_traceparent()
    started = time.time()
    status, body = request(
        "GET",
        f"{endpoints.user_api}/v1/users/{account.user_id}",
        headers={"authorization": f"Bearer {account.access_token}", "traceparent": header},
    )
    _expect(status, 200, "GET /v1/users/{id}", body)
    return Journey(
        "read a user (HTTP)",
        trace_id,
        ("user",),
        started,
        http_red_query("/v1/users/{user_id}", "GET"),
        f"{status}",
    )


def user_journeys(endpoints: Endpoints) -> tuple[list[Journey], Account]:
    """Register, log in and read the user back; return the journeys and the account."""
    registered, credentials = register(endpoints)
    logged_in, account = log_in(endpoints, credentials)
    return [registered, logged_in, read_user(endpoints, account)], account


def create_order(
    endpoints: Endpoints, account: Account, *, product_id: str, trace_header: str
) -> grpc.StatusCode:
    """CreateOrder for one unit of product_id under the given trace; the status it ended with."""
    with grpc.insecure_channel(endpoints.order_grpc) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        try:
            stub.CreateOrder(
                order_pb2.CreateOrderRequest(
                    idempotency_key=f"verify-{secrets.token_hex(8)}",
                    lines=[order_pb2.CreateOrderLine(product_id=product_id, quantity=1)],
                ),
                metadata=(
                    ("authorization", f"Bearer {account.access_token}"),
                    ("traceparent", trace_header),
                ),
                timeout=GRPC_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            return code
    return grpc.StatusCode.OK


def order_journey(endpoints: Endpoints, account: Account) -> Journey:
    """CreateOrder over gRPC: order -> user over HTTP, then outbox -> Kafka -> user consumer."""
    trace_id, header = new_traceparent()
    started = time.time()
    code = create_order(endpoints, account, product_id=PRODUCT_ID, trace_header=header)
    if code is not grpc.StatusCode.OK:
        raise JourneyError(f"CreateOrder answered {code.name}")
    return Journey(
        "create order (gRPC -> HTTP -> Kafka)",
        trace_id,
        ("order", "user"),
        started,
        grpc_red_query("CreateOrder"),
        code.name,
        crosses_kafka=True,
    )


def services_answer(endpoints: Endpoints) -> bool:
    """True when the user service's API port answers at all."""
    try:
        request("GET", f"{endpoints.user_api}/.well-known/jwks.json")
    except HttpError:
        return False
    return True
