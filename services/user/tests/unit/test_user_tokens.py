"""Access tokens: what is issued verifies; every kind of forgery or staleness is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from user_service.adapters.keys import KeyRing, new_signing_key, write_key
from user_service.adapters.tokens import JwtIssuer, JwtVerifier
from user_service.domain.errors import InvalidTokenError
from user_service.domain.users import Role, User
from user_service.testing import FakeClock

ISSUER, AUDIENCE = "threadline-user", "threadline"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def user(role: Role = Role.USER) -> User:
    return User.register(email="ada@example.com", full_name="Ada", now=datetime.now(UTC), role=role)


def pair(keys: KeyRing, clock: FakeClock, ttl: int = 900) -> tuple[JwtIssuer, JwtVerifier]:
    issuer = JwtIssuer(keys=keys, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl, clock=clock)
    verifier = JwtVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0, clock=clock
    )
    return issuer, verifier


def claims(subject: User, clock: FakeClock, **overrides: Any) -> dict[str, Any]:
    now = int(clock().timestamp())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(subject.id),
        "role": "admin",
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


@pytest.fixture
def clock() -> FakeClock:
    clock = FakeClock()
    clock.now = datetime.now(UTC).replace(microsecond=0)
    return clock


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing([new_signing_key()])


def test_an_issued_token_names_its_user_role_and_key(keys: KeyRing, clock: FakeClock) -> None:
    issuer, verifier = pair(keys, clock)
    subject = user(Role.ADMIN)
    token = issuer.issue(subject).token
    principal = verifier.verify(token)
    assert (principal.user_id, principal.role) == (subject.id, Role.ADMIN)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("EdDSA", keys.active.kid)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert (payload["iss"], payload["aud"], payload["exp"] - payload["iat"]) == (
        ISSUER,
        AUDIENCE,
        900,
    )


def test_a_token_with_a_tampered_payload_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    issuer, verifier = pair(keys, clock)
    header, _, signature = issuer.issue(user()).token.split(".")
    forged_payload = b64(json.dumps(claims(user(), clock)).encode())
    with pytest.raises(InvalidTokenError):
        verifier.verify(f"{header}.{forged_payload}.{signature}")


def test_a_token_signed_by_a_key_we_do_not_hold_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    _, verifier = pair(keys, clock)
    stranger = new_signing_key()
    # Same kid as ours, different key: the signature must not verify.
    token = jwt.encode(
        claims(user(), clock),
        stranger.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.active.kid},
    )
    with pytest.raises(InvalidTokenError, match="signature does not verify"):
        verifier.verify(token)


def test_alg_none_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    _, verifier = pair(keys, clock)
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": keys.active.kid}).encode())
    payload = b64(json.dumps(claims(user(), clock)).encode())
    for token, named in (
        (f"{header}.{payload}.", "algorithm is not accepted"),
        (f"{header}.{payload}", "malformed"),
    ):
        with pytest.raises(InvalidTokenError, match=named):
            verifier.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    """The classic key-confusion attack: HMAC keyed with the published public key."""
    _, verifier = pair(keys, clock)
    public_pem = keys.active.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw_public = base64.urlsafe_b64decode(keys.jwks()["keys"][0]["x"] + "==")
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": keys.active.kid}).encode())
    payload = b64(json.dumps(claims(user(), clock)).encode())
    for secret in (public_pem, raw_public):
        signature = b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        with pytest.raises(InvalidTokenError, match="algorithm is not accepted"):
            verifier.verify(f"{header}.{payload}.{signature}")


def test_rs256_from_another_issuer_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    _, verifier = pair(keys, clock)
    rsa = generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims(user(), clock), rsa, algorithm="RS256", headers={"kid": keys.active.kid}
    )
    with pytest.raises(InvalidTokenError, match="algorithm is not accepted"):
        verifier.verify(token)


def test_an_expired_token_is_refused_even_after_it_was_accepted(
    keys: KeyRing, clock: FakeClock
) -> None:
    issuer, verifier = pair(keys, clock, ttl=60)
    token = issuer.issue(user()).token
    verifier.verify(token)  # remembered as good...
    clock.advance(61)
    with pytest.raises(InvalidTokenError, match="expired"):  # ...but not beyond its expiry
        verifier.verify(token)


def test_an_unknown_kid_is_refused(keys: KeyRing, clock: FakeClock) -> None:
    _, verifier = pair(keys, clock)
    token = jwt.encode(
        claims(user(), clock),
        keys.active.private_key,
        algorithm="EdDSA",
        headers={"kid": "retired"},
    )
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)
    no_kid = jwt.encode(claims(user(), clock), keys.active.private_key, algorithm="EdDSA")
    with pytest.raises(InvalidTokenError):
        verifier.verify(no_kid)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"aud": "someone-else"}, "another audience"),
        ({"iss": "someone-else"}, "issuer is not accepted"),
        ({"exp": 1}, "expired"),
        ({"sub": "not-a-uuid"}, "invalid"),
        ({"role": "root"}, "invalid"),
    ],
)
def test_claims_for_another_audience_issuer_or_shape_are_refused(
    keys: KeyRing, clock: FakeClock, override: dict[str, Any], named: str
) -> None:
    _, verifier = pair(keys, clock)
    token = jwt.encode(
        claims(user(), clock, **override),
        keys.active.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.active.kid},
    )
    with pytest.raises(InvalidTokenError, match=named):
        verifier.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "...."])
def test_garbage_is_refused(keys: KeyRing, clock: FakeClock, garbage: str) -> None:
    _, verifier = pair(keys, clock)
    with pytest.raises(InvalidTokenError, match="malformed"):
        verifier.verify(garbage)


def test_after_rotation_the_new_key_signs_and_the_old_one_still_verifies(
    tmp_path: Path, clock: FakeClock
) -> None:
    old_ring = KeyRing.load_or_create(tmp_path)
    old_token = pair(old_ring, clock)[0].issue(user()).token
    newer = new_signing_key(datetime.now(UTC) + timedelta(seconds=1))
    write_key(tmp_path, newer)
    ring = KeyRing.load_or_create(tmp_path)
    issuer, verifier = pair(ring, clock)
    assert ring.active.kid == newer.kid
    assert [key["kid"] for key in ring.jwks()["keys"]] == [newer.kid, old_ring.active.kid]
    new_token = issuer.issue(user()).token
    assert jwt.get_unverified_header(new_token)["kid"] == newer.kid
    verifier.verify(new_token)
    verifier.verify(old_token)


def test_a_first_start_generates_one_private_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    ring = KeyRing.load_or_create(directory)
    (key_file,) = directory.glob("*.pem")
    assert key_file.stem == ring.active.kid
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    # A second start reuses it.
    assert KeyRing.load_or_create(directory).active.kid == ring.active.kid


def test_the_jwks_publishes_public_keys_only(keys: KeyRing) -> None:
    (jwk,) = keys.jwks()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    # A verifier with only the JWKS (the order service) can check our tokens.
    clock = FakeClock()
    clock.now = datetime.now(UTC)
    token = pair(keys, clock)[0].issue(user()).token
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)["sub"]


def test_keys_from_settings_sign_with_the_first_one() -> None:
    first, second = new_signing_key(), new_signing_key()
    ring = KeyRing.from_pems([first.pem().decode(), second.pem().decode()])
    assert ring.active.public_key.public_bytes_raw() == first.public_key.public_bytes_raw()
    assert len(ring.jwks()["keys"]) == 2
