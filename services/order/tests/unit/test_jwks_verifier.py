"""Tokens verify against the cached JWKS; unknown kids refetch it, but not on every forgery."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jwt
import pytest

from order_service.domain.errors import DependencyUnavailableError, UnauthenticatedError
from order_service.testing import FakeUserService, verifier_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_valid_token_names_its_user() -> None:
    service = FakeUserService()
    user = uuid.uuid4()
    caller = await verifier_for(service.client()).verify(service.token(user))
    assert caller.user_id == user


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"aud": "other"}, "another audience"),
        ({"iss": "other"}, "issuer is not accepted"),
        ({"exp": 1}, "expired"),
        ({"sub": "not-a-uuid"}, "does not verify"),
    ],
)
async def test_tokens_with_wrong_claims_are_refused(claims: dict[str, Any], named: str) -> None:
    service = FakeUserService()
    with pytest.raises(UnauthenticatedError, match=named):
        await verifier_for(service.client()).verify(service.token(**claims))


async def test_unsigned_and_symmetric_tokens_are_refused() -> None:
    service = FakeUserService()
    verifier = verifier_for(service.client())
    claims = {"sub": str(uuid.uuid4()), "aud": "threadline", "iss": "threadline-user"}
    no_key: Any = None
    unsigned = jwt.encode(claims, no_key, algorithm="none", headers={"kid": service.active_kid})
    hmac = jwt.encode(claims, "secret" * 6, algorithm="HS256", headers={"kid": service.active_kid})
    for token in (unsigned, hmac, "a.b.c", ""):
        with pytest.raises(UnauthenticatedError):
            await verifier.verify(token)


async def test_an_unknown_kid_refetches_once_per_window() -> None:
    service, clock = FakeUserService(), Clock()
    verifier = verifier_for(service.client())
    verifier._clock = clock
    await verifier.verify(service.token())
    assert service.jwks_requests == 1
    forged = jwt.encode(
        {"sub": "x"}, service.keys[service.active_kid], algorithm="EdDSA", headers={"kid": "forged"}
    )
    for _ in range(5):
        with pytest.raises(UnauthenticatedError):
            await verifier.verify(forged)
    assert service.jwks_requests == 1  # within min_refetch: no new fetch
    clock.now += 1
    service.rotate()
    await verifier.verify(service.token())
    assert service.jwks_requests == 2


async def test_cached_keys_keep_working_while_the_user_service_is_away() -> None:
    service, clock = FakeUserService(), Clock()
    up = True

    def handle(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("refused")
        return service.handle(request)

    verifier = verifier_for(
        httpx.AsyncClient(base_url="http://u", transport=httpx.MockTransport(handle))
    )
    verifier._clock = clock
    await verifier.verify(service.token())
    up = False
    clock.now += 1000  # the cache is stale, and the refetch fails
    await verifier.verify(service.token())


async def test_no_keys_at_all_is_unavailable_not_unauthenticated() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    verifier = verifier_for(
        httpx.AsyncClient(base_url="http://u", transport=httpx.MockTransport(down))
    )
    with pytest.raises(DependencyUnavailableError):
        await verifier.verify(FakeUserService().token())
