"""The authorisation matrix as data: every HTTP route and RPC, the attacks that apply to it, and
the answer its API documents (services/user/README.md "API", services/order/README.md "RPCs and
statuses").

A route or RPC the services expose without an entry here fails the suite, naming it; so does an
entry for one they no longer expose. The runner (test_authorisation_matrix.py) decides who
attacks what, the same way for every row:

* token attacks: a forged token whose claims name the *victim* with the *admin* role, aimed at
  the victim's own resources, so that a token accepted by mistake would succeed everywhere;
* `deactivated_user`: the real token of a user an admin has since deactivated, on their own
  resources;
* `other_users_resource`: a real user's token on the victim's user record or order;
* `user_on_admin_route`: a real user's token on an admin-only route, aimed at themself
  (self-promotion).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from google.protobuf.message import Message

from threadline_contracts.order.v1 import order_pb2


class Attack(StrEnum):
    NO_CREDENTIALS = "no_credentials"
    MALFORMED = "malformed"
    EXPIRED = "expired"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_ISSUER = "wrong_issuer"
    ALG_NONE = "alg_none"
    HS256_PUBLIC_KEY = "hs256_public_key"
    UNKNOWN_KID = "unknown_kid"
    KID_PATH = "kid_path"
    KID_URL = "kid_url"
    DEACTIVATED_USER = "deactivated_user"
    OTHER_USERS_RESOURCE = "other_users_resource"
    USER_ON_ADMIN_ROUTE = "user_on_admin_route"


# Attacks on the token itself: both services must refuse them before looking at anything else.
TOKEN_ATTACKS: Final = tuple(Attack)[:10]


@dataclass(frozen=True)
class Refused:
    """The documented refusal: an HTTP status or a gRPC status code name, and a pattern its
    problem `detail` or status message must match (it names what was wrong)."""

    status: int | str
    names: str
    # google.rpc.ErrorInfo reason the status details must carry (gRPC only).
    reason: str | None = None


@dataclass(frozen=True)
class Allowed:
    """Not a refusal, by the API's documented semantics (`why`); still checked to change
    nothing (these are reads)."""

    status: int | str
    why: str


Expectation = Refused | Allowed

# What each token attack's refusal must name.
_NAMES: Final[Mapping[Attack, str]] = {
    Attack.NO_CREDENTIALS: r"(?i)bearer.*required",
    Attack.MALFORMED: r"(?i)malformed",
    Attack.EXPIRED: r"(?i)expired",
    Attack.WRONG_AUDIENCE: r"(?i)audience",
    Attack.WRONG_ISSUER: r"(?i)issuer",
    Attack.ALG_NONE: r"(?i)algorithm",
    Attack.HS256_PUBLIC_KEY: r"(?i)algorithm",
    Attack.UNKNOWN_KID: r"(?i)signing key is unknown",
    Attack.KID_PATH: r"(?i)signing key is unknown",
    Attack.KID_URL: r"(?i)signing key is unknown",
}

# HTTP: 401 problem+json with `WWW-Authenticate: Bearer` (RFC 6750).
HTTP_UNAUTHENTICATED: Final = {attack: Refused(401, _NAMES[attack]) for attack in TOKEN_ATTACKS}
# gRPC: UNAUTHENTICATED with ErrorInfo INVALID_TOKEN.
RPC_UNAUTHENTICATED: Final = {
    attack: Refused("UNAUTHENTICATED", _NAMES[attack], reason="INVALID_TOKEN")
    for attack in TOKEN_ATTACKS
}

# "For anyone else's id the answer is the same 404, byte for byte, as for an id that does not
# exist" (the runner compares the two bodies).
HTTP_NOT_YOURS: Final = Refused(404, r"(?i)not found")
HTTP_NEEDS_ADMIN: Final = Refused(403, r"(?i)admin role")
HTTP_DEACTIVATED: Final = Refused(403, r"(?i)deactivated")
RPC_NOT_YOURS: Final = Refused("NOT_FOUND", r"(?i)not found")
RPC_DEACTIVATED: Final = Refused("FAILED_PRECONDITION", r"(?i)not active", reason="USER_NOT_ACTIVE")

READS_OWN_RECORD: Final = (
    "a deactivated user's unexpired token still reads their own record, which shows "
    "is_active=false: that read is how other services learn the account is inactive (user "
    "README, 'Access tokens'); new tokens are refused and this one expires within 15 minutes"
)
READS_OWN_ORDERS: Final = (
    "reads of one's own orders are not gated on the account's state: checking it would put a "
    "call to the user service on every read's path (DESIGN §2: only writes check); the token "
    "expires within 15 minutes and writes (CreateOrder, CancelOrder) are refused"
)


@dataclass(frozen=True)
class HttpRoute:
    """An authenticated route. `{user_id}` in the path is the target's id; `body` is valid, so
    that only authorisation can refuse the request."""

    expect: Mapping[Attack, Expectation]
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Target:
    """What an RPC is aimed at: the order of the user the runner chose."""

    order_id: str
    idempotency_key: str


@dataclass(frozen=True)
class Rpc:
    """An authenticated RPC and a valid request for it."""

    expect: Mapping[Attack, Expectation]
    request: Callable[[Target], Message] = field(compare=False)


# Routes anyone may call, by design: listed so that a new route is never public by accident.
PUBLIC_HTTP: Final[Mapping[str, str]] = {
    "POST /v1/users": "registration",
    "POST /v1/auth/token": "login; a deactivated user's credentials get 401 (tested apart)",
    "GET /.well-known/jwks.json": "the public keys verifiers need",
    # Health, readiness and metrics live on the admin port (9101), not in this document.
}

HTTP_MATRIX: Final[Mapping[str, HttpRoute]] = {
    "GET /v1/users/me": HttpRoute(
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.DEACTIVATED_USER: Allowed(200, READS_OWN_RECORD),
        }
    ),
    "GET /v1/users/{user_id}": HttpRoute(
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.OTHER_USERS_RESOURCE: HTTP_NOT_YOURS,
            Attack.DEACTIVATED_USER: Allowed(200, READS_OWN_RECORD),
        }
    ),
    "PATCH /v1/users/{user_id}": HttpRoute(
        body={"full_name": "Mallory"},
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.OTHER_USERS_RESOURCE: HTTP_NOT_YOURS,
            Attack.DEACTIVATED_USER: HTTP_DEACTIVATED,
        },
    ),
    "DELETE /v1/users/{user_id}": HttpRoute(
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.OTHER_USERS_RESOURCE: HTTP_NOT_YOURS,
            Attack.DEACTIVATED_USER: HTTP_DEACTIVATED,
        }
    ),
    "GET /v1/users": HttpRoute(
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.USER_ON_ADMIN_ROUTE: HTTP_NEEDS_ADMIN,
            # A user's role, whatever the account's state.
            Attack.DEACTIVATED_USER: HTTP_NEEDS_ADMIN,
        }
    ),
    "PATCH /v1/admin/users/{user_id}": HttpRoute(
        body={"role": "admin", "is_active": True},
        expect={
            **HTTP_UNAUTHENTICATED,
            Attack.USER_ON_ADMIN_ROUTE: HTTP_NEEDS_ADMIN,
            Attack.DEACTIVATED_USER: HTTP_NEEDS_ADMIN,
        },
    ),
}

ORDER_SERVICE: Final = "order.v1.OrderService"

# Services the order server exposes to anyone, by design.
PUBLIC_RPC: Final[Mapping[str, str]] = {
    "grpc.health.v1.Health/Check": "health checking (grpc.health.v1)",
    "grpc.health.v1.Health/List": "health checking (grpc.health.v1)",
    "grpc.health.v1.Health/Watch": "health checking (grpc.health.v1)",
    "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "server reflection",
}

RPC_MATRIX: Final[Mapping[str, Rpc]] = {
    f"{ORDER_SERVICE}/CreateOrder": Rpc(
        request=lambda target: order_pb2.CreateOrderRequest(
            idempotency_key=target.idempotency_key,
            lines=[order_pb2.CreateOrderLine(product_id="coffee-beans-1kg", quantity=1)],
        ),
        expect={**RPC_UNAUTHENTICATED, Attack.DEACTIVATED_USER: RPC_DEACTIVATED},
    ),
    f"{ORDER_SERVICE}/GetOrder": Rpc(
        request=lambda target: order_pb2.GetOrderRequest(order_id=target.order_id),
        expect={
            **RPC_UNAUTHENTICATED,
            Attack.OTHER_USERS_RESOURCE: RPC_NOT_YOURS,
            Attack.DEACTIVATED_USER: Allowed("OK", READS_OWN_ORDERS),
        },
    ),
    f"{ORDER_SERVICE}/ListOrders": Rpc(
        request=lambda _: order_pb2.ListOrdersRequest(page_size=10),
        # Another user's orders cannot even be named here: the list is the caller's.
        expect={
            **RPC_UNAUTHENTICATED,
            Attack.DEACTIVATED_USER: Allowed("OK", READS_OWN_ORDERS),
        },
    ),
    f"{ORDER_SERVICE}/CancelOrder": Rpc(
        request=lambda target: order_pb2.CancelOrderRequest(order_id=target.order_id),
        expect={
            **RPC_UNAUTHENTICATED,
            Attack.OTHER_USERS_RESOURCE: RPC_NOT_YOURS,
            Attack.DEACTIVATED_USER: RPC_DEACTIVATED,
        },
    ),
}


def cells(matrix: Mapping[str, HttpRoute | Rpc]) -> list[tuple[str, Attack]]:
    """Every (route or RPC, attack) pair the matrix holds an expectation for."""
    return [(name, attack) for name, entry in matrix.items() for attack in entry.expect]
