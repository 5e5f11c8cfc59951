"""The order benchmark's helper processes and callers: a bare grpc.aio method (the baseline),
the user service as the order service sees it (JWKS + an always-active account), and tokens.

    python -m threadline_benchmarks.order.stubs bare PORT
    python -m threadline_benchmarks.order.stubs user PORT PUBLIC_KEY_B64
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["BARE_METHOD", "KID", "access_tokens", "channels", "serve_bare", "serve_user_stub"]

BARE_METHOD = "/bench.Bare/Echo"
KID = "bench"


async def serve_bare(port: int) -> None:
    """A grpc.aio server with one unary method that echoes its bytes: the baseline."""

    async def echo(request: bytes, context: Any) -> bytes:
        return request

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(echo)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Bare", {"Echo": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def serve_user_stub(port: int, public_key_b64: str) -> None:
    """The user service as the order service sees it: JWKS and an always-active account."""
    import uvicorn  # noqa: PLC0415
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    jwks = {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": public_key_b64, "kid": KID, "alg": "EdDSA"}]
    }

    async def keys(request: Any) -> JSONResponse:
        return JSONResponse(jwks)

    async def user(request: Any) -> JSONResponse:
        return JSONResponse({"id": request.path_params["user_id"], "is_active": True})

    app = Starlette(
        routes=[Route("/.well-known/jwks.json", keys), Route("/v1/users/{user_id}", user)]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def channels(port: int, count: int) -> list[grpc.aio.Channel]:
    # Distinct channels (own connections); gRPC would share one subchannel otherwise.
    return [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(count)
    ]


def access_tokens(key: Ed25519PrivateKey, count: int) -> list[tuple[tuple[str, str]]]:
    """``authorization`` metadata for ``count`` users, signed like the user service does."""
    now = datetime.now(UTC)
    claims = {
        "iss": "threadline-user",
        "aud": "threadline",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return [
        (
            (
                "authorization",
                "Bearer "
                + jwt.encode(
                    {**claims, "sub": str(uuid.uuid4())},
                    key,
                    algorithm="EdDSA",
                    headers={"kid": KID},
                ),
            ),
        )
        for _ in range(count)
    ]


def main() -> None:
    kind, port, *rest = sys.argv[1:]
    if kind == "bare":
        asyncio.run(serve_bare(int(port)))
    else:
        serve_user_stub(int(port), rest[0])


if __name__ == "__main__":
    main()
