"""Journeys that fail on purpose: a refusal must leave a warning or error line in its trace.

The access line alone (scope `observability.access`) says that a request ended badly; what a
person on call needs is the line that says why, found by the same trace_id. Each journey here
names the service that must write that line:

* CreateOrder for a product the catalog does not have: order asks user whether the caller is
  active (so the trace crosses both services), then refuses with INVALID_ARGUMENT;
* POST /v1/users with a NUL character in full_name: text PostgreSQL cannot store, which the
  user service must refuse with 422 (before that refusal existed it answered 500).
"""

from __future__ import annotations

import secrets
import time

import grpc

from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import request
from threadline_native.verify.journeys import (
    Account,
    Journey,
    create_order,
    grpc_red_query,
    http_red_query,
    new_traceparent,
)

UNKNOWN_PRODUCT_ID = "verify-no-such-product"
BAD_TEXT_STATUS = 422


def unknown_product_order(endpoints: Endpoints, account: Account) -> Journey:
    """CreateOrder for a product that does not exist: refused with INVALID_ARGUMENT."""
    trace_id, header = new_traceparent()
    started = time.time()
    code = create_order(endpoints, account, product_id=UNKNOWN_PRODUCT_ID, trace_header=header)
    expected = grpc.StatusCode.INVALID_ARGUMENT
    return Journey(
        "refused: order for an unknown product (gRPC)",
        trace_id,
        ("order", "user"),
        started,
        grpc_red_query("CreateOrder"),
        code.name if code is expected else f"{code.name}, expected {expected.name}",
        refused_by="order",
        as_expected=code is expected,
    )


def nul_in_full_name(endpoints: Endpoints) -> Journey:
    """POST /v1/users whose full_name holds a NUL character: refused with 422."""
    trace_id, header = new_traceparent()
    started = time.time()
    status, body = request(
        "POST",
        f"{endpoints.user_api}/v1/users",
        body={
            "email": f"verify-{secrets.token_hex(6)}@example.com",
            "full_name": "Verify\u0000Probe",
            "password": secrets.token_urlsafe(18),
        },
        headers={"traceparent": header},
    )
    outcome = f"{status} {body.get('title', '') if isinstance(body, dict) else ''}".strip()
    if status != BAD_TEXT_STATUS:
        outcome += f", expected {BAD_TEXT_STATUS}"
    return Journey(
        "refused: NUL in full_name (HTTP)",
        trace_id,
        ("user",),
        started,
        http_red_query("/v1/users", "POST"),
        outcome,
        refused_by="user",
        as_expected=status == BAD_TEXT_STATUS,
    )
