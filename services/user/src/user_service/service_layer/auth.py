"""Use cases of authentication: trade an email and a password for an access token."""

from __future__ import annotations

import logging

from user_service.domain.errors import InvalidCredentialsError, RateLimitedError
from user_service.domain.passwords import MAX_LENGTH, normalise_password
from user_service.service_layer.ports import (
    AccessToken,
    LoginThrottle,
    PasswordHasher,
    TokenIssuer,
    UnitOfWork,
    UserEvents,
)

_log = logging.getLogger(__name__)


async def issue_token(
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    issuer: TokenIssuer,
    throttle: LoginThrottle,
    events: UserEvents,
    email: str,
    password: str,
    client: str,
) -> AccessToken:
    """An access token for the right email and password; one error for every wrong case."""
    try:
        await throttle.check(email=email, client=client)
    except RateLimitedError:
        events.login("rate_limited")
        raise
    # Counted as typed, as the policy counts it: NFKC can lengthen a password it accepted.
    too_long = len(password) > MAX_LENGTH
    password = normalise_password(password)
    async with uow:
        found = await uow.users.get_with_password_hash(email)
        if found is None or too_long:
            # Unknown emails take as long as wrong passwords, so timing reveals no account.
            await hasher.verify_nothing(password[:MAX_LENGTH])
            events.login("invalid_credentials")
            raise InvalidCredentialsError
        user, password_hash = found
        if not await hasher.verify(password_hash, password) or not user.is_active:
            events.login("invalid_credentials")
            _log.info("login refused", extra={"user.id": str(user.id)})
            raise InvalidCredentialsError
        if hasher.needs_rehash(password_hash):
            # The hashing parameters changed since this hash was made; the plain password is
            # in hand only now, so this is the moment to upgrade it.
            await uow.users.set_password_hash(user.id, await hasher.hash(password))
            await uow.commit()
            _log.info("password rehashed", extra={"user.id": str(user.id)})
    events.login("success")
    return issuer.issue(user)
