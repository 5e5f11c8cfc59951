"""Domain errors -> gRPC status codes with google.rpc details: the one place it happens.

`ErrorMappingInterceptor` wraps every OrderService method. Details travel in the standard
``grpc-status-details-bin`` trailer (a ``google.rpc.Status``), readable with
``grpc_status.rpc_status.from_call``:

=====================  ===================  ==============================================
domain error           status               details
=====================  ===================  ==============================================
InvalidRequestError         INVALID_ARGUMENT     BadRequest (one FieldViolation per field)
UnauthenticatedError        UNAUTHENTICATED      ErrorInfo(reason=INVALID_TOKEN)
OrderNotFoundError          NOT_FOUND            ResourceInfo(order.v1.Order, id)
IdempotencyKeyReusedError   ALREADY_EXISTS       ErrorInfo(IDEMPOTENCY_KEY_REUSED), BadRequest
UserNotActiveError          FAILED_PRECONDITION  ErrorInfo(USER_NOT_ACTIVE), PreconditionFailure
DependencyUnavailableError  UNAVAILABLE          ErrorInfo(DEPENDENCY_UNAVAILABLE), RetryInfo
DeadlineTooShortError       DEADLINE_EXCEEDED    —
database unreachable   UNAVAILABLE          ErrorInfo(DEPENDENCY_UNAVAILABLE), RetryInfo
anything else          INTERNAL             — (logged with its traceback, message generic)
=====================  ===================  ==============================================

Every refusal is also one WARNING line, "rpc refused", with the status code, the message and
the names of the offending fields (never their values), written inside the RPC's span: the
access line says that a call failed, this line says why, and both carry the trace_id.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy import exc as sa_exc

from order_service.api.unary_interceptor import Behavior, UnaryWrappingInterceptor
from order_service.domain.errors import (
    DeadlineTooShortError,
    DependencyUnavailableError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    OrderNotFoundError,
    UnauthenticatedError,
    UserNotActiveError,
)

_log = logging.getLogger(__name__)

ERROR_DOMAIN: Final = "order.threadline.dev"
_DETAILS_KEY: Final = "grpc-status-details-bin"


def _error_info(reason: str, **metadata: str) -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata)


def _retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    delay = duration_pb2.Duration()
    delay.FromMilliseconds(max(int(seconds * 1000), 1))
    return error_details_pb2.RetryInfo(retry_delay=delay)


def _bad_request(violations: list[tuple[str, str]]) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in violations
        ]
    )


def translate(error: BaseException) -> tuple[grpc.StatusCode, str, list[Message]]:  # noqa: PLR0911
    """The status code, message and details for ``error``."""
    match error:
        case InvalidRequestError():
            violations = [(v.field, v.description) for v in error.violations]
            return grpc.StatusCode.INVALID_ARGUMENT, str(error), [_bad_request(violations)]
        case UnauthenticatedError():
            return grpc.StatusCode.UNAUTHENTICATED, str(error), [_error_info("INVALID_TOKEN")]
        case OrderNotFoundError():
            return (
                grpc.StatusCode.NOT_FOUND,
                "order not found",
                [
                    error_details_pb2.ResourceInfo(
                        resource_type="order.v1.Order", resource_name=str(error)
                    )
                ],
            )
        case IdempotencyKeyReusedError():
            return (
                grpc.StatusCode.ALREADY_EXISTS,
                str(error),
                [
                    _error_info("IDEMPOTENCY_KEY_REUSED", idempotency_key=error.key),
                    _bad_request([("idempotency_key", "already used for a different request")]),
                ],
            )
        case UserNotActiveError():
            return (
                grpc.StatusCode.FAILED_PRECONDITION,
                "the caller's account is not active",
                [
                    _error_info("USER_NOT_ACTIVE"),
                    error_details_pb2.PreconditionFailure(
                        violations=[
                            error_details_pb2.PreconditionFailure.Violation(
                                type="USER_ACTIVE",
                                subject="user",
                                description="the account must exist and be active",
                            )
                        ]
                    ),
                ],
            )
        case DependencyUnavailableError():
            return (
                grpc.StatusCode.UNAVAILABLE,
                str(error),
                [
                    _error_info("DEPENDENCY_UNAVAILABLE", dependency=error.dependency),
                    _retry_info(error.retry_after_seconds),
                ],
            )
        case DeadlineTooShortError():
            return grpc.StatusCode.DEADLINE_EXCEEDED, str(error) or "deadline too short", []
        case (
            sa_exc.TimeoutError()
            | sa_exc.OperationalError()
            | sa_exc.InterfaceError()
            | (ConnectionError() | TimeoutError())
        ):
            return (
                grpc.StatusCode.UNAVAILABLE,
                "the orders database is unavailable",
                [_error_info("DEPENDENCY_UNAVAILABLE", dependency="postgres"), _retry_info(1.0)],
            )
        case sa_exc.DBAPIError() if error.connection_invalidated:
            return (
                grpc.StatusCode.UNAVAILABLE,
                "the orders database is unavailable",
                [_error_info("DEPENDENCY_UNAVAILABLE", dependency="postgres"), _retry_info(1.0)],
            )
    return grpc.StatusCode.INTERNAL, "internal error", []


def status_trailer(code: grpc.StatusCode, message: str, details: list[Message]) -> bytes:
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return bytes(status.SerializeToString())


def _refusal_fields(code: grpc.StatusCode, message: str, error: BaseException) -> dict[str, object]:
    fields: dict[str, object] = {"rpc.grpc.status_code": code.name, "reason": message}
    if isinstance(error, InvalidRequestError):
        fields["invalid_fields"] = sorted({violation.field for violation in error.violations})
    return fields


def map_errors(behavior: Behavior) -> Behavior:
    """Wrap a unary method so that whatever it raises leaves as a precise status."""

    async def mapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await behavior(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            code, message, details = translate(error)
            if code is grpc.StatusCode.INTERNAL:
                _log.exception("unexpected error in an RPC")
            else:
                _log.warning("rpc refused", extra=_refusal_fields(code, message, error))
            await context.abort(
                code,
                message,
                trailing_metadata=((_DETAILS_KEY, status_trailer(code, message, details)),),
            )

    return mapped


class ErrorMappingInterceptor(UnaryWrappingInterceptor):
    """Applies `map_errors` to every unary-unary method of the listed services."""

    def wrap(self, behavior: Behavior) -> Behavior:
        return map_errors(behavior)
