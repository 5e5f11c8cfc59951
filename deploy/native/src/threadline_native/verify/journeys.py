"""The user journeys, driven through the real services, each under a trace id chosen here.

Every request carries a W3C `traceparent` with the sampled flag, so the services continue our
trace and we know which trace ids to look for in the backends afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import grpc

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_native.verify.http import HttpError, request

USER_API = "http://127.0.0.1:8000"
ORDER_GRPC = "127.0.0.1:50051"
# A product from the order service's seeded catalog.
PRODUCT_ID = "coffee-beans-1kg"


@dataclass(frozen=True)
class Journey:
    name: str
    trace_id: str
    # The services whose spans and log lines the trace must hold.
    services: tuple[str, ...]


class JourneyError(Exception):
    """A service answered a journey's request with an error, so there is no trace to check."""


def _traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def run_user_journeys() -> tuple[list[Journey], str, str]:
    """Register a user and take a token; return the journeys, the user id and the token."""
    email = f"verify-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)
    register_trace, header = _traceparent()
    status, body = request(
        "POST",
        f"{USER_API}/v1/users",
        body={"email": email, "full_name": "Verify Probe", "password": password},
        headers={"traceparent": header},
    )
    if status != 201:
        raise JourneyError(f"POST /v1/users answered {status}: {body}")
    user_id = str(body["id"])
    token_trace, header = _traceparent()
    status, body = request(
        "POST",
        f"{USER_API}/v1/auth/token",
        body={"email": email, "password": password},
        headers={"traceparent": header},
    )
    if status != 200:
        raise JourneyError(f"POST /v1/auth/token answered {status}: {body}")
    journeys = [
        Journey("register (HTTP)", register_trace, ("user",)),
        Journey("token (HTTP)", token_trace, ("user",)),
    ]
    return journeys, user_id, str(body["access_token"])


def run_order_journey(access_token: str) -> Journey:
    """CreateOrder over gRPC: order -> user over HTTP, then outbox -> Kafka -> user consumer."""
    trace_id, header = _traceparent()
    with grpc.insecure_channel(ORDER_GRPC) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        try:
            stub.CreateOrder(
                order_pb2.CreateOrderRequest(
                    idempotency_key=f"verify-{secrets.token_hex(8)}",
                    lines=[order_pb2.CreateOrderLine(product_id=PRODUCT_ID, quantity=1)],
                ),
                metadata=(("authorization", f"Bearer {access_token}"), ("traceparent", header)),
                timeout=10,
            )
        except grpc.RpcError as error:
            raise JourneyError(f"CreateOrder failed: {error.code()} {error.details()}") from error
    return Journey("create order (gRPC -> HTTP -> Kafka)", trace_id, ("order", "user"))


def services_answer() -> bool:
    """True when the user service's API port answers at all."""
    try:
        request("GET", f"{USER_API}/.well-known/jwks.json")
    except HttpError:
        return False
    return True
