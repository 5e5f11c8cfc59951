"""Every error leaves as application/problem+json (RFC 9457), mapped here and nowhere else.

Domain errors, validation errors, the router's own 404/405, a database that cannot be reached
(503 with Retry-After: the request may be retried, and the outage is no bug of ours) and
anything unexpected (500, logged with its trace, never described to the caller) all go through
`problem_response`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.responses import Response

from user_service.api.allowed_methods import allowed_methods
from user_service.api.schemas import Problem
from user_service.domain import errors

_log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

# status -> (type slug, title)
_KINDS: Final[dict[int, tuple[str, str]]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}

# What any route reading a JSON body may answer besides its own errors: an undecodable body
# (400), one over the size limit (413), one that is not JSON (415), one off the schema (422).
BODY_PROBLEMS: Final = (400, 413, 415, 422)

_DOMAIN_STATUS: Final[dict[type[errors.DomainError], int]] = {
    errors.UserNotFoundError: 404,
    errors.EmailTakenError: 409,
    errors.PasswordPolicyError: 422,
    errors.InvalidCursorError: 422,
    errors.InvalidCredentialsError: 401,
    errors.InvalidTokenError: 401,
    errors.ForbiddenError: 403,
    errors.RateLimitedError: 429,
}


class ProblemResponse(Response):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    field_errors: Iterable[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    slug, title = _KINDS.get(status, ("http-error", "HTTP error"))
    body: dict[str, Any] = {
        "type": f"urn:threadline:problem:{slug}",
        "title": title,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if field_errors is not None:
        body["errors"] = list(field_errors)
    if status in BODY_PROBLEMS:
        _log_refusal(status, detail, body.get("errors", ()))
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _log_refusal(
    status: int, detail: str | None, field_errors: Iterable[Mapping[str, str]]
) -> None:
    # A request refused for its input leaves one line, inside its span, saying why: the access
    # line (sampled requests only) says that it failed. Fields are named, values never logged.
    fields = sorted(
        {error.get("pointer") or error.get("parameter") or "#" for error in field_errors}
    )
    _log.warning(
        "request refused",
        extra={"http.response.status_code": status, "reason": detail, "invalid_fields": fields},
    )


# The headers a problem of these statuses carries (set in `_domain_error`), as documented.
_HEADERS_OPENAPI: Final[dict[int, dict[str, Any]]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The bearer challenge (RFC 6750), when a token was missing or invalid.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
}


def problem_openapi(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these problem statuses (and their headers) on a route."""
    return {
        status: {
            "description": _KINDS[status][1],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": _HEADERS_OPENAPI[status]} if status in _HEADERS_OPENAPI else {}),
        }
        for status in statuses
    }


def _domain_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, errors.DomainError)
    status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
    headers: dict[str, str] = {}
    field_errors = None
    if isinstance(error, errors.NotAuthenticatedError):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, errors.InvalidTokenError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(error, errors.RateLimitedError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif isinstance(error, errors.PasswordPolicyError):
        field_errors = [{"detail": error.reason, "pointer": "#/password"}]
    elif isinstance(error, errors.InvalidCursorError):
        field_errors = [{"detail": str(error), "parameter": "cursor"}]
    return problem_response(status, str(error), field_errors=field_errors, headers=headers)


def _field_error(error: Mapping[str, Any]) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    where, path = (location[0], location[1:]) if location else ("body", [])
    message = str(error.get("msg", "invalid value"))
    if error.get("type") == "json_invalid":
        return {"detail": message, "pointer": "#"}
    if where == "body":
        # RFC 6901: '~' and '/' inside a member name are escaped.
        escaped = (part.replace("~", "~0").replace("/", "~1") for part in path)
        return {"detail": message, "pointer": "#/" + "/".join(escaped) if path else "#"}
    return {"detail": message, "parameter": path[0] if path else where}


def _validation_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return problem_response(
        422,
        "the request does not match the schema; see `errors`",
        field_errors=[_field_error(item) for item in error.errors()],
    )


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else None
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette's own Allow names one route's methods; the path may be served by several.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(error.status_code, detail, headers=headers)


def database_unreachable(error: BaseException) -> bool:
    """True for what a stopped, refusing or unanswering database raises (not a refused row)."""
    match error:
        case (
            sa_exc.TimeoutError()
            | sa_exc.OperationalError()
            | sa_exc.InterfaceError()
            | ConnectionError()
            | TimeoutError()
        ):
            return True
        case sa_exc.DBAPIError() if error.connection_invalidated:
            return True
    return False


def _database_error(request: Request, error: Exception) -> Response:
    if not database_unreachable(error):
        return _unexpected_error(request, error)
    # The outage is logged once per request without the error's text (it may quote SQL).
    _log.warning(
        "request refused: the database is unavailable",
        extra={"http.response.status_code": 503, "error.type": type(error).__name__},
    )
    return problem_response(
        503, "the user database is unavailable; retry shortly", headers={"Retry-After": "1"}
    )


def _unexpected_error(_: Request, error: Exception) -> Response:
    _log.error("unhandled error", exc_info=error)
    return problem_response(500)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for unreachable in (sa_exc.DBAPIError, sa_exc.TimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(unreachable, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


def register_problem_schema(app: FastAPI) -> None:
    """Put `Problem` into the OpenAPI components that `problem_openapi` refers to."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(
                Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop(
                    "$defs", {}
                )
            )
            components["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components["Problem"].pop("$defs", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
