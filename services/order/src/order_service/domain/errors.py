"""Everything that can go wrong in the order domain, named once.

The gRPC edge translates these to status codes with google.rpc details in one place
(order_service.api.errors); nothing below the edge knows about status codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with one field of a request, e.g. ``lines[2].quantity``."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every domain error."""


class InvalidRequestError(DomainError):
    """The request breaks a rule; ``violations`` says which fields and why."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class UnauthenticatedError(DomainError):
    """No access token, or one that does not verify."""


class OrderNotFoundError(DomainError):
    """No such order for this caller (another user's order is reported the same way)."""


class IdempotencyKeyReusedError(DomainError):
    """The idempotency key already created an order from a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key


class UserNotActiveError(DomainError):
    """The user service says the caller's account is missing or deactivated."""


class DependencyUnavailableError(DomainError):
    """A service we depend on cannot answer now; retrying later may work."""

    def __init__(self, dependency: str, reason: str, *, retry_after_seconds: float = 1.0) -> None:
        super().__init__(f"{dependency} is unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


class DeadlineTooShortError(DomainError):
    """Too little of the caller's deadline is left to do the work."""
