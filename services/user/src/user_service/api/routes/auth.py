"""/v1/auth/token and /.well-known/jwks.json: issuing access tokens and the keys to check them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from user_service.api.deps import ClientAddressDep, ServicesDep, require_json
from user_service.api.json_route import JsonTextRoute
from user_service.api.problems import BODY_PROBLEMS, problem_openapi
from user_service.api.schemas import JwkSet, TokenRequest, TokenResponse
from user_service.service_layer.auth import issue_token

router = APIRouter(tags=["auth"], route_class=JsonTextRoute)


@router.post(
    "/v1/auth/token",
    dependencies=[Depends(require_json)],
    responses=problem_openapi(*BODY_PROBLEMS, 401, 429),
)
async def token(
    body: TokenRequest,
    response: Response,
    services: ServicesDep,
    client: ClientAddressDep,
) -> TokenResponse:
    """Trade an email and a password for a short-lived access token (EdDSA-signed JWT)."""
    issued = await issue_token(
        uow=services.unit_of_work(),
        hasher=services.hasher,
        issuer=services.issuer,
        throttle=services.throttle,
        events=services.events,
        email=body.email,
        password=body.password.get_secret_value(),
        client=client,
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in_seconds)


@router.get("/.well-known/jwks.json", response_model=JwkSet)
async def jwks(services: ServicesDep, response: Response) -> dict[str, Any]:
    """The public keys that verify access tokens; pick one by the token's `kid`."""
    # Short enough that a rotated-in key reaches verifiers well before it signs anything.
    response.headers["Cache-Control"] = "public, max-age=300"
    return services.keys.jwks()
