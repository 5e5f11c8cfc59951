"""Wire schemas: what callers send and receive. Tables live in adapters/tables.py.

Unknown fields are refused (422 naming the field), strings are bounded, and a field a caller
must not set — role, active flag, order statistics — is absent from what that caller sends.
Every text a caller sends carries `StorableText`: a NUL, an unpaired surrogate or an
undecodable byte (`api.json_route`) is a 422 naming its field, not a 500 from PostgreSQL or
from a JSON encoder.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from user_service.adapters.tables import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from user_service.api.patterns import (
    DELIVERABLE_DOMAIN,
    DISTINCT_CHARACTERS,
    NO_NUL,
    NOT_BLANK,
    RESERVED_DOMAINS,
    WHITESPACE,
)
from user_service.domain.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from user_service.domain.passwords import MIN_DISTINCT_CHARACTERS
from user_service.domain.passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from user_service.domain.text import text_problem
from user_service.domain.users import User

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
CURSOR_MAX_LENGTH = 64


def _storable(value: object) -> object:
    # Before the field's own type, so that a secret or an email address is checked as sent;
    # anything not a string is left for that type to refuse.
    if isinstance(value, str) and (problem := text_problem(value)) is not None:
        raise PydanticCustomError("text_unstorable", problem)
    return value


# The one text rule, on every text field of every schema (and on text query parameters).
StorableText = BeforeValidator(_storable)


def _bounded_email(email: str) -> str:
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValueError(f"an email address has at most {EMAIL_MAX_LENGTH} characters")
    return email


def _stripped_not_blank(name: str) -> str:
    stripped = name.strip(WHITESPACE)
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# EmailStr normalises (the domain part lowercased, Unicode NFC); uniqueness is case-insensitive.
Email = Annotated[
    EmailStr,
    StorableText,
    AfterValidator(_bounded_email),
    Field(
        examples=["ada@example.com"],
        description="An address on a domain mail can be delivered to: special-use and reserved "
        f"names ({', '.join('.' + name for name in RESERVED_DOMAINS)}) are refused.",
        json_schema_extra={"maxLength": EMAIL_MAX_LENGTH, "pattern": DELIVERABLE_DOMAIN},
    ),
]
# Bounded as sent, then stripped of surrounding whitespace, so the schema's maxLength is the
# whole truth about length.
FullName = Annotated[
    str,
    StorableText,
    StringConstraints(min_length=1, max_length=FULL_NAME_MAX_LENGTH),
    AfterValidator(_stripped_not_blank),
    Field(
        examples=["Ada Lovelace"],
        description="Stored without surrounding whitespace.",
        json_schema_extra={"pattern": NOT_BLANK},
    ),
]
NewPassword = Annotated[
    SecretStr,
    StorableText,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"The password policy (NIST SP 800-63B): {PASSWORD_MIN_LENGTH} to "
        f"{PASSWORD_MAX_LENGTH} characters; after Unicode NFKC normalisation, at least "
        f"{MIN_DISTINCT_CHARACTERS} different characters (letters compared case-insensitively), "
        "not one of the commonest passwords, not containing the local part of the account's "
        "email address when it has 4 characters or more. No composition rules. A password "
        "breaking it is a 422 pointing at `#/password`.",
        json_schema_extra={"pattern": DISTINCT_CHARACTERS},
    ),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserCreate(_Input):
    email: Email
    full_name: FullName
    password: NewPassword


class UserUpdate(_Input):
    """Fields left out stay as they are."""

    email: Email | None = None
    full_name: FullName | None = None
    password: NewPassword | None = None


class UserAccountUpdate(_Input):
    """What an admin may change about any account."""

    role: Literal["user", "admin"] | None = None
    is_active: bool | None = None


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: Literal["user", "admin"]
    is_active: bool
    order_count: int = Field(ge=0, description="Orders placed (from the order service's events).")
    total_spent_cents: int = Field(ge=0, description="Total of those orders, in cents.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_user(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role.value,
            is_active=user.is_active,
            order_count=user.stats.order_count,
            total_spent_cents=user.stats.total_spent_cents,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserPage(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TokenRequest(_Input):
    email: Email
    password: Annotated[
        SecretStr,
        StorableText,
        Field(min_length=1, max_length=1024, json_schema_extra={"pattern": NO_NUL}),
    ]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class Jwk(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JwkSet(BaseModel):
    keys: list[Jwk]


class ProblemFieldError(BaseModel):
    """One bad input: `pointer` (RFC 6901, into the JSON body) or `parameter` (query or path)."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:threadline:problem:not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
