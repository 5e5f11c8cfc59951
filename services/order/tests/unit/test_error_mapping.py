"""Each domain error leaves as one precise status with its google.rpc details."""

from __future__ import annotations

import logging

import grpc
import pytest
from google.rpc import error_details_pb2
from sqlalchemy import exc as sa_exc

from order_service.api.errors import map_errors, translate
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


class _AbortingContext:
    """The part of grpc.aio.ServicerContext that map_errors uses: abort raises, as grpc's does."""

    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None

    async def abort(self, code: grpc.StatusCode, message: str, **_: object) -> None:
        self.code = code
        raise grpc.aio.AbortError(message)


async def test_a_refusal_logs_one_warning_naming_the_code_and_fields_but_no_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refuse(request: object, context: object) -> None:
        raise InvalidRequestError(
            [FieldViolation("lines[0].product_id", "unknown product 'secret-sku'")]
        )

    context = _AbortingContext()
    with (
        caplog.at_level(logging.INFO, logger="order_service.api.errors"),
        pytest.raises(grpc.aio.AbortError),
    ):
        await map_errors(refuse)(object(), context)

    assert context.code is grpc.StatusCode.INVALID_ARGUMENT
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "rpc refused"
    assert record.__dict__["rpc.grpc.status_code"] == "INVALID_ARGUMENT"
    assert record.__dict__["invalid_fields"] == ["lines[0].product_id"]
    assert "secret-sku" not in str(record.__dict__["invalid_fields"])


async def test_an_internal_error_is_logged_with_its_traceback_not_as_a_refusal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crash(request: object, context: object) -> None:
        raise ZeroDivisionError

    with (
        caplog.at_level(logging.INFO, logger="order_service.api.errors"),
        pytest.raises(grpc.aio.AbortError),
    ):
        await map_errors(crash)(object(), _AbortingContext())

    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
