"""Each domain error leaves as one precise status with its google.rpc details."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from sqlalchemy import exc as sa_exc

from order_service.api.errors import translate
from order_service.domain.errors import (
    DeadlineTooShortError,
    DependencyUnavailableError,
    FieldViolation,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    OrderNotFoundError,
    UnauthenticatedError,
    UserNotActiveError,
)


@pytest.mark.parametrize(
    ("error", "code", "detail_types"),
    [
        (
            InvalidRequestError([FieldViolation("lines", "empty")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            ["BadRequest"],
        ),
        (UnauthenticatedError("no"), grpc.StatusCode.UNAUTHENTICATED, ["ErrorInfo"]),
        (OrderNotFoundError("id"), grpc.StatusCode.NOT_FOUND, ["ResourceInfo"]),
        (
            IdempotencyKeyReusedError("k"),
            grpc.StatusCode.ALREADY_EXISTS,
            ["ErrorInfo", "BadRequest"],
        ),
        (
            UserNotActiveError("x"),
            grpc.StatusCode.FAILED_PRECONDITION,
            ["ErrorInfo", "PreconditionFailure"],
        ),
        (
            DependencyUnavailableError("user-service", "down"),
            grpc.StatusCode.UNAVAILABLE,
            ["ErrorInfo", "RetryInfo"],
        ),
        (DeadlineTooShortError("short"), grpc.StatusCode.DEADLINE_EXCEEDED, []),
        (sa_exc.TimeoutError("pool"), grpc.StatusCode.UNAVAILABLE, ["ErrorInfo", "RetryInfo"]),
        (ConnectionRefusedError(), grpc.StatusCode.UNAVAILABLE, ["ErrorInfo", "RetryInfo"]),
        (ZeroDivisionError(), grpc.StatusCode.INTERNAL, []),
    ],
)
def test_each_error_has_one_status_and_its_details(
    error: Exception, code: grpc.StatusCode, detail_types: list[str]
) -> None:
    got_code, message, details = translate(error)
    assert got_code is code
    assert message
    assert [detail.DESCRIPTOR.name for detail in details] == detail_types


def test_field_violations_are_carried_one_by_one() -> None:
    error = InvalidRequestError(
        [FieldViolation("a", "x"), FieldViolation("lines[2].quantity", "y")]
    )
    _, _, (bad_request,) = translate(error)
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("a", "x"),
        ("lines[2].quantity", "y"),
    ]


def test_an_internal_error_does_not_leak_its_message() -> None:
    _, message, _ = translate(RuntimeError("password=hunter2 at db.internal"))
    assert message == "internal error"
