"""What routes receive: the wired services, a unit of work, the authenticated caller.

Everything here comes from the `Services` the lifespan built (main.py); nothing is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
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


# The dependencies below read `request.state` themselves rather than depending on ServicesDep:
# FastAPI re-examines every dependency node on every request, and on the cache-hit path those
# nodes cost as much as the Redis round-trip.


def _services_of(request: Request) -> Services:
    services: Services = request.state.services
    return services


async def _services(request: Request) -> Services:
    return _services_of(request)


ServicesDep = Annotated[Services, Depends(_services)]


async def _unit_of_work(request: Request) -> UnitOfWork:
    # Cheap to build: it borrows a pooled connection only when entered, so a cache hit never
    # touches the database.
    return SqlUnitOfWork(_services_of(request).engine)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(_unit_of_work)]

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/token.")


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticatedError
    return _services_of(request).verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(_principal)]


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
