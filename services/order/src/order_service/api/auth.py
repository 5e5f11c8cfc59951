"""Who is calling: the bearer token in the `authorization` metadata, verified."""

from __future__ import annotations

from typing import Any, Protocol

import grpc

from order_service.domain.access import Caller
from order_service.domain.errors import UnauthenticatedError


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Caller: ...


def bearer_token(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The token of ``authorization: Bearer <token>``; `UnauthenticatedError` when absent."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            text = value if isinstance(value, str) else value.decode("latin-1")
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise UnauthenticatedError("an `authorization: Bearer <token>` metadata entry is required")


async def authenticate(
    context: grpc.aio.ServicerContext[Any, Any], verifier: TokenVerifier
) -> Caller:
    return await verifier.verify(bearer_token(context))
