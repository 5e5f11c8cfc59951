"""Everything that can go wrong in the user service, named once.

The HTTP edge maps each class to one problem+json status in one place (api/problems.py); use
cases raise these and never an HTTP exception.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller can cause and be told about."""


class UserNotFoundError(DomainError):
    """No such user — also what a caller sees for someone else's record, so that ids cannot be
    probed: 'exists but not yours' and 'does not exist' are indistinguishable."""

    def __init__(self) -> None:
        super().__init__("user not found")


class EmailTakenError(DomainError):
    def __init__(self) -> None:
        super().__init__("this email address is already registered")


class PasswordPolicyError(DomainError):
    """The password breaks the policy; `reason` says which rule, for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidCredentialsError(DomainError):
    """Wrong email or password, or an inactive account: one message for all three."""

    def __init__(self) -> None:
        super().__init__("invalid email or password")


class InvalidTokenError(DomainError):
    """The bearer token is missing, malformed, forged, expired or signed by an unknown key."""

    def __init__(self, reason: str = "invalid or expired access token") -> None:
        super().__init__(reason)


class NotAuthenticatedError(InvalidTokenError):
    """No bearer token at all (RFC 6750: the challenge then names no error)."""

    def __init__(self) -> None:
        super().__init__("a bearer access token is required")


class ForbiddenError(DomainError):
    """Authenticated, but the operation needs a role the caller does not have."""

    def __init__(self, reason: str = "this operation needs the admin role") -> None:
        super().__init__(reason)


class AccountDeactivatedError(ForbiddenError):
    """The caller's own account is deactivated: its unexpired token still reads the record
    (that is how other services learn of it), but changes nothing."""

    def __init__(self) -> None:
        super().__init__("this account is deactivated")


class InvalidCursorError(DomainError):
    def __init__(self) -> None:
        super().__init__("the page cursor is not one this service issued")


class RateLimitedError(DomainError):
    """Too many attempts; try again after `retry_after_seconds`."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds
