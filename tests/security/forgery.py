"""Forged access tokens, made with PyJWT as an attacker would make them.

Every forgery starts from the claims a genuine token carries and changes one thing; `genuine`
makes the unchanged token with the user service's real signing key, and the suite checks that
it *is* accepted, so a refusal is the forgery's doing and not a mistake in the forger.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import HMACAlgorithm

from user_service.adapters.keys import SigningKey

from .matrix import Attack

ISSUER: Final = "threadline-user"
AUDIENCE: Final = "threadline"
KID_PATH: Final = "../../etc/passwd"
# Resolving this would be an outbound request; the suite's canary records any attempt.
KID_URL: Final = "http://evil.example/jwks"


class _KeyConfusedHmac(HMACAlgorithm):
    """HS256 that takes any bytes as its secret. PyJWT refuses a PEM public key as an HMAC
    secret (its own defence against this very attack); an attacker's library does not."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return key if isinstance(key, bytes) else key.encode()


_confused_jws = jwt.PyJWS(algorithms=[])
_confused_jws.register_algorithm("HS256", _KeyConfusedHmac(HMACAlgorithm.SHA256))


@dataclass(frozen=True)
class Forger:
    """Tokens for `subject`, signed (where the attack signs at all) with the real key."""

    key: SigningKey

    def claims(self, subject: uuid.UUID, role: str, **changes: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(subject),
            "role": role,
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "jti": uuid.uuid4().hex,
            **changes,
        }

    def _signed(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(
            claims, self.key.private_key, algorithm="EdDSA", headers={"kid": kid or self.key.kid}
        )

    def genuine(self, subject: uuid.UUID, role: str = "admin") -> str:
        """A token the services must accept: what the token endpoint would issue."""
        return self._signed(self.claims(subject, role))

    def authorization(self, attack: Attack, subject: uuid.UUID, role: str = "admin") -> str | None:
        """The `authorization` value carrying the forgery (None: no credentials at all)."""
        token = self.forge(attack, subject, role)
        return None if token is None else f"Bearer {token}"

    def forge(self, attack: Attack, subject: uuid.UUID, role: str) -> str | None:  # noqa: PLR0911
        claims = self.claims(subject, role)
        match attack:
            case Attack.NO_CREDENTIALS:
                return None
            case Attack.MALFORMED:
                return "not-a-jwt"
            case Attack.EXPIRED:
                # Well past the 30 s leeway.
                past = datetime.now(UTC) - timedelta(hours=2)
                return self._signed({**claims, "iat": past, "exp": past + timedelta(minutes=15)})
            case Attack.WRONG_AUDIENCE:
                return self._signed({**claims, "aud": "another-service"})
            case Attack.WRONG_ISSUER:
                return self._signed({**claims, "iss": "https://evil.example"})
            case Attack.ALG_NONE:
                unsigned: Any = None  # PyJWT's "none" takes no key; its stubs want one
                return jwt.encode(claims, unsigned, algorithm="none", headers={"kid": self.key.kid})
            case Attack.HS256_PUBLIC_KEY:
                public_pem = self.key.public_key.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                return _confused_jws.encode(
                    _json(claims), public_pem, algorithm="HS256", headers={"kid": self.key.kid}
                )
            case Attack.UNKNOWN_KID:
                # Signed with the real key: only the key id is wrong.
                return self._signed(claims, kid=f"20990101T000000Z-{uuid.uuid4().hex[:12]}")
            case Attack.KID_PATH:
                return self._signed(claims, kid=KID_PATH)
            case Attack.KID_URL:
                return self._signed(claims, kid=KID_URL)
        raise ValueError(f"{attack} is not an attack on the token")


def _json(claims: dict[str, Any]) -> bytes:
    """The claims as a JWT payload (NumericDate for datetimes), as PyJWT's encode writes it."""
    numeric = {
        name: int(value.timestamp()) if isinstance(value, datetime) else value
        for name, value in claims.items()
    }
    return json.dumps(numeric, separators=(",", ":")).encode()
