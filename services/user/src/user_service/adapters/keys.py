"""Signing keys for access tokens: Ed25519, several at once, so keys can be rotated.

Keys live as PKCS#8 PEM files named `<kid>.pem` in one directory (0700, files 0600), or come
from settings as PEM strings. Key ids start with the UTC creation time, so the newest key —
the one that signs — is simply the greatest id; older keys stay in the JWKS and keep verifying
tokens they signed until they are deleted (rotation: docs in services/user/README.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def _thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        return {**_public_jwk(self.public_key), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def new_signing_key(now: datetime | None = None) -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    created = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return SigningKey(
        f"{created}-{_thumbprint(_public_jwk(private_key.public_key()))[:12]}", private_key
    )


def _load_pem(pem: bytes, kid: str | None = None) -> SigningKey:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError("signing keys must be Ed25519")
    return SigningKey(kid or _thumbprint(_public_jwk(private_key.public_key())), private_key)


class KeyRing:
    """The key that signs (the newest) and every key that still verifies."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = {key.kid: key for key in keys}
        if not self._keys:
            raise ValueError("a key ring needs at least one key")
        self.active = self._keys[max(self._keys)]
        self._jwks = {"keys": [key.jwk() for _, key in sorted(self._keys.items(), reverse=True)]}

    def get(self, kid: str) -> SigningKey | None:
        return self._keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set, newest key first."""
        return self._jwks

    @classmethod
    def from_pems(cls, pems: Iterable[str]) -> KeyRing:
        """Keys given as PEM strings (from settings); ids are their RFC 7638 thumbprints.

        The first PEM signs, the rest only verify: put the new key first when rotating.
        """
        keys = [_load_pem(pem.encode()) for pem in pems]
        # Prefix ids with their position so that the first key sorts greatest.
        return cls(
            SigningKey(f"{len(keys) - index:03d}-{key.kid[:12]}", key.private_key)
            for index, key in enumerate(keys)
        )

    @classmethod
    def load_or_create(cls, directory: Path) -> KeyRing:
        """Every `*.pem` in the directory; a first key is generated when there is none."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        files = sorted(directory.glob("*.pem"))
        if not files:
            write_key(directory, new_signing_key())
            files = sorted(directory.glob("*.pem"))
        return cls(_load_pem(path.read_bytes(), kid=path.stem) for path in files)


def write_key(directory: Path, key: SigningKey) -> Path:
    """Store a key with owner-only permissions; written aside and renamed, so a concurrent
    reader never sees half a key."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{key.kid}.pem"
    partial = directory / f".{key.kid}.pem.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.pem())
    partial.rename(path)
    return path
