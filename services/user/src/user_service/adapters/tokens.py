"""Access tokens: JWTs signed with the key ring's active Ed25519 key, verified by `kid`.

Claims: `iss` (settings.jwt_issuer, "threadline-user"), `aud` (settings.jwt_audience,
"threadline"), `sub` (the user id), `role`, `iat`, `exp`, `jti`. Only EdDSA is accepted on the
way back in, so `alg: none` and HS256-signed-with-the-public-key tokens are refused before any
signature is looked at.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import timedelta

import jwt

from user_service.adapters.keys import ALGORITHM, KeyRing
from user_service.domain.access import Principal
from user_service.domain.errors import InvalidTokenError
from user_service.domain.users import Role, User
from user_service.service_layer.ports import AccessToken, Clock

_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "role"]


class JwtIssuer:
    def __init__(
        self, *, keys: KeyRing, issuer: str, audience: str, ttl_seconds: int, clock: Clock
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = ttl_seconds
        self._clock = clock

    def issue(self, user: User) -> AccessToken:
        now = self._clock()
        key = self._keys.active
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user.id),
            "role": user.role.value,
            "iat": now,
            "exp": now + timedelta(seconds=self._ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return AccessToken(token=token, expires_in_seconds=self._ttl_seconds)


class JwtVerifier:
    """Verifies tokens; remembers recent good ones so a hot caller is not re-verified each time.

    The memo holds only tokens that passed every check and is consulted with their expiry, so
    it changes how often a signature is checked, never what is accepted.
    """

    def __init__(
        self,
        *,
        keys: KeyRing,
        issuer: str,
        audience: str,
        leeway_seconds: float,
        clock: Clock,
        memo_size: int = 4096,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_seconds = leeway_seconds
        self._clock = clock
        self._memo: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._memo_size = memo_size

    def verify(self, token: str) -> Principal:
        now = self._clock().timestamp()
        remembered = self._memo.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if now <= expires_at + self._leeway_seconds:
                return principal
            del self._memo[token]
        principal, expires_at = self._verify(token)
        self._memo[token] = (principal, expires_at)
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidTokenError("the token's signing key is unknown")
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_seconds,
                options={"require": _REQUIRED_CLAIMS},
            )
            expires_at = float(claims["exp"])
            # PyJWT checked exp against the wall clock; check it against ours too, so that the
            # memo above and this path can never disagree about when a token expires.
            if self._clock().timestamp() > expires_at + self._leeway_seconds:
                raise InvalidTokenError("the access token has expired")
            principal = Principal(user_id=uuid.UUID(claims["sub"]), role=Role(claims["role"]))
            return principal, expires_at
        except InvalidTokenError:
            raise
        except jwt.PyJWTError as error:
            raise InvalidTokenError(describe(error)) from None
        except (ValueError, TypeError, KeyError):
            raise InvalidTokenError from None


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
    return "invalid or expired access token"
