"""The secrets a test session handled, so the telemetry check can look for their exact values.

A pattern finds what looks like a JWT or an email address; it cannot know that ``correct horse
battery staple`` is a password. So tests and the helpers they share register each secret they
make or read: the passwords they send (the wrong ones too), the tokens they are issued, the
signing keys a service wrote. At the end of the session every string the service processes
exported is searched for these values (`threadline_testing.telemetry_sink`).

The registry is the test process's own: it lives as long as the session, nothing is written
anywhere.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

__all__ = ["known_secrets", "register_secret", "register_signing_keys"]

_known: dict[str, str] = {}
_key_directories: set[Path] = set()

_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.([\w-]*)", re.ASCII)
_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?P<body>[A-Za-z0-9+/=\s]+)-----END", re.ASCII
)
# PKCS#8 framing of an Ed25519 private key (RFC 8410): the 32-byte seed follows it.
_ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def register_secret(value: str, kind: str) -> str:
    """Remember ``value`` as a secret of this ``kind`` ("password", "access token", ...).

    Returns the value, so a constant can be registered where it is defined. A JWT's signature
    is registered on its own as well: it proves the token leaked even without the rest.
    """
    _known[value] = kind
    if match := _JWT.fullmatch(value):
        _known[match.group(1)] = f"{kind} (signature)"
    return value


def register_signing_keys(directory: Path) -> None:
    """Register every PEM private key in ``directory`` (a service's signing-key directory).

    Read now and again when the session ends, so a key the service makes later counts too.
    Each key is registered as its PEM body, each line of it, and, for Ed25519, its raw seed
    as base64url (a JWK's ``d``), base64 and hex.
    """
    _key_directories.add(directory)
    _read_keys(directory)


def known_secrets() -> dict[str, str]:
    """Every registered value and its kind (signing-key directories read again)."""
    for directory in sorted(_key_directories):
        _read_keys(directory)
    return dict(_known)


def _read_keys(directory: Path) -> None:
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.pem")):
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in _PEM.finditer(text):
            _register_pem_body(match.group("body"))


def _register_pem_body(body: str) -> None:
    lines = body.split()
    for line in lines:
        register_secret(line, "signing key (PEM line)")
    register_secret("".join(lines), "signing key (PEM body)")
    try:
        der = base64.b64decode("".join(lines), validate=True)
    except binascii.Error:
        return
    if der.startswith(_ED25519_PKCS8_PREFIX) and len(der) == len(_ED25519_PKCS8_PREFIX) + 32:
        seed = der[len(_ED25519_PKCS8_PREFIX) :]
        register_secret(base64.urlsafe_b64encode(seed).rstrip(b"=").decode(), "signing key (JWK d)")
        register_secret(base64.b64encode(seed).decode(), "signing key (base64)")
        register_secret(seed.hex(), "signing key (hex)")
