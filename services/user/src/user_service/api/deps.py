"""What routes receive: the wired services, or the authenticated caller with them.

Everything here comes from the `Services` the lifespan built (main.py); nothing is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from user_service.adapters.keys import KeyRing
from user_service.adapters.unit_of_work import SqlUnitOfWork
from user_service.domain.access import Principal
from user_service.domain.errors import NotAuthenticatedError
from user_service.service_layer.ports import (
    Clock,
    LoginThrottle,
    PasswordHasher,
    TokenIssuer,
    TokenVerifier,
    UnitOfWork,
    UserCache,
    UserEvents,
)


@dataclass(frozen=True, slots=True)
class Services:
    """The adapters one process shares between requests, built and closed by the lifespan."""

    engine: AsyncEngine
    cache: UserCache
    hasher: PasswordHasher
    keys: KeyRing
    issuer: TokenIssuer
    verifier: TokenVerifier
    throttle: LoginThrottle
    events: UserEvents
    clock: Clock

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. It borrows a pooled connection only when entered, so a read that
        the cache answers never touches the database; `read_only` for one-statement reads
        (see SqlUnitOfWork)."""
        return SqlUnitOfWork(self.engine, read_only=read_only)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: who is calling, and the services the request may use."""

    principal: Principal
    services: Services


# FastAPI walks every node of a route's dependency tree on every request, at tens of µs a node in
# this version: on the cache-hit path, separate nodes for the services, a unit of work, the
# bearer credentials and the principal cost more than the cache lookup. So what a route needs
# comes from one node, reading `request.state` and the header itself.


def _services_of(request: Request) -> Services:
    services: Services = request.state.services
    return services


async def _services(request: Request) -> Services:
    return _services_of(request)


ServicesDep = Annotated[Services, Depends(_services)]


class _BearerCaller(SecurityBase):
    """The verified bearer token and the services, as one node; as a `SecurityBase` it declares
    the bearer scheme in the OpenAPI document, like FastAPI's `HTTPBearer`."""

    def __init__(self, *, description: str) -> None:
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> Caller:
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "bearer" or not token:
            raise NotAuthenticatedError
        services = _services_of(request)
        return Caller(principal=services.verifier.verify(token), services=services)


CallerDep = Annotated[
    Caller, Depends(_BearerCaller(description="An access token from POST /v1/auth/token."))
]


async def _client_address(request: Request) -> str:
    # uvicorn has already applied X-Forwarded-For from trusted proxies (--forwarded-allow-ips).
    return request.client.host if request.client else "unknown"


ClientAddressDep = Annotated[str, Depends(_client_address)]


async def require_json(request: Request) -> None:
    """415 for a body that is not JSON, before anything tries to parse it."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise HTTPException(415, "send the body as application/json")
