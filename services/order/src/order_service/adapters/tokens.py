"""Access tokens from the user service, verified against its published JWKS.

The key set is cached for ``ttl_seconds`` and fetched again when a token names a `kid` we do
not know (the user service rotated its key) — at most once per ``min_refetch_seconds``, so a
stream of forged kids cannot turn into a stream of JWKS requests. While the user service is
away, tokens signed with a cached key keep verifying. Only EdDSA is accepted, so `alg: none`
and algorithm-confusion tokens are refused before a signature is looked at.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

import httpx
import jwt

from order_service.domain.access import Caller
from order_service.domain.errors import DependencyUnavailableError, UnauthenticatedError

ALGORITHMS: Final = ["EdDSA"]
JWKS_PATH: Final = "/.well-known/jwks.json"
_REQUIRED_CLAIMS: Final = ["iss", "aud", "sub", "iat", "exp"]
_MAX_TOKEN_LENGTH: Final = 4096


class JwksTokenVerifier:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: float,
        ttl_seconds: float,
        min_refetch_seconds: float,
        fetch_timeout_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        memo_size: int = 4096,
    ) -> None:
        self._client = client
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._fetch_timeout = fetch_timeout_seconds
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        # Tokens that passed every check, with their expiry: a hot caller is not re-verified
        # on each call. It changes how often a signature is checked, never what is accepted.
        self._memo: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._memo_size = memo_size

    async def verify(self, token: str) -> Caller:
        """The caller the token names; `UnauthenticatedError` when it does not verify."""
        remembered = self._memo.get(token)
        if remembered is not None:
            caller, expires_at = remembered
            if time.time() <= expires_at + self._leeway:
                return caller
            del self._memo[token]
        if len(token) > _MAX_TOKEN_LENGTH:
            raise UnauthenticatedError("the access token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthenticatedError("the access token is malformed") from None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS:
            raise UnauthenticatedError("the access token's algorithm is not accepted (only EdDSA)")
        if not isinstance(kid, str):
            raise UnauthenticatedError("the access token names no signing key (`kid`)")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
            caller = Caller(user_id=uuid.UUID(str(claims["sub"])), token=token)
            expires_at = float(claims["exp"])
        except jwt.PyJWTError as error:
            raise UnauthenticatedError(describe(error)) from None
        except (ValueError, TypeError):
            raise UnauthenticatedError("the access token does not verify") from None
        self._memo[token] = (caller, expires_at)
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return caller

    def _needs_fetch(self, kid: str) -> bool:
        if self._fetched_at is None:
            return True
        age = self._clock() - self._fetched_at
        return age >= self._ttl or (kid not in self._keys and age >= self._min_refetch)

    async def _key(self, kid: str) -> Any:
        if self._needs_fetch(kid):
            async with self._lock:
                # Single flight: whoever waited on the lock may find the work done.
                if self._needs_fetch(kid):
                    await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise UnauthenticatedError("the access token's signing key is unknown")
        return key

    async def _fetch(self) -> None:
        try:
            response = await self._client.get(JWKS_PATH, timeout=self._fetch_timeout)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            if self._keys:
                # Keep verifying with the keys we have; try again after min_refetch.
                self._fetched_at = self._clock() - self._ttl + self._min_refetch
                return
            raise DependencyUnavailableError(
                "user-service", f"cannot fetch the JWKS ({type(error).__name__})"
            ) from None
        self._keys = {key.key_id: key.key for key in key_set.keys if key.key_id}
        self._fetched_at = self._clock()


def describe(error: jwt.PyJWTError) -> str:  # noqa: PLR0911
    """What was wrong with a token, for the caller: nothing they could not read in it."""
    match error:
        case jwt.ExpiredSignatureError():
            return "the access token has expired"
        case jwt.ImmatureSignatureError():
            return "the access token is not valid yet"
        case jwt.InvalidAudienceError():
            return "the access token is meant for another audience"
        case jwt.InvalidIssuerError():
            return "the access token's issuer is not accepted"
        case jwt.InvalidAlgorithmError():
            return "the access token's algorithm is not accepted (only EdDSA)"
        case jwt.MissingRequiredClaimError():
            return f"the access token lacks the {error.claim!r} claim"
        case jwt.InvalidSignatureError():
            return "the access token's signature does not verify"
        case jwt.DecodeError():
            return "the access token is malformed"
    return "the access token does not verify"
