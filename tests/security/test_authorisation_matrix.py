"""The authorisation matrix: every route and RPC, every attack, the documented refusal, and
nothing left behind (matrix.py holds the expectations; this module only runs them).

Both services run as processes for the whole suite (conftest.py). For each cell the runner
snapshots both databases, the outbox and Redis, makes the call, checks the answer's shape and
that the snapshot did not move, and that no outbound request reached the canary.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.message import Message
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_testing.plugin import short_id

from .evidence import (
    StateProbe,
    assert_http_refusal,
    assert_rpc_refusal,
    assert_unchanged,
)
from .matrix import (
    HTTP_MATRIX,
    PUBLIC_HTTP,
    PUBLIC_RPC,
    RPC_MATRIX,
    TOKEN_ATTACKS,
    Allowed,
    Attack,
    Target,
    cells,
)
from .world import PASSWORD, Account, Cast, SecurityStack

pytestmark = [pytest.mark.e2e, pytest.mark.security, pytest.mark.asyncio(loop_scope="session")]

_HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _attacker_and_target(attack: Attack, cast: Cast) -> tuple[str | None, Account]:
    """The `authorization` value the attack sends and whose resource it aims at."""
    if attack in TOKEN_ATTACKS:
        # The victim's own resources, with the admin role: accepted, it would succeed anywhere.
        return cast.forger.authorization(attack, cast.victim.id, role="admin"), cast.victim
    match attack:
        case Attack.OTHER_USERS_RESOURCE:
            return cast.attacker.bearer, cast.victim
        case Attack.DEACTIVATED_USER:
            return cast.deactivated.bearer, cast.deactivated
        case Attack.USER_ON_ADMIN_ROUTE:
            return cast.attacker.bearer, cast.attacker
    raise AssertionError(f"no attacker for {attack}")


def _headers(authorization: str | None) -> dict[str, str]:
    return {"authorization": authorization} if authorization is not None else {}


# Coverage: what the services expose, read live, against the matrix's entries ------------------


async def test_every_http_route_has_an_entry(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    exposed = {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in _HTTP_METHODS
    }
    listed = HTTP_MATRIX.keys() | PUBLIC_HTTP.keys()
    missing = sorted(exposed.keys() - listed)
    assert not missing, (
        f"routes without an entry in tests/security/matrix.py (HTTP_MATRIX or PUBLIC_HTTP): "
        f"{missing}"
    )
    stale = sorted(listed - exposed.keys())
    assert not stale, f"matrix entries for routes the user service does not expose: {stale}"
    # The document must say the same: a bearer scheme on exactly the non-public routes.
    secured = {route for route, operation in exposed.items() if operation.get("security")}
    assert secured == HTTP_MATRIX.keys(), (
        "the OpenAPI document's bearer requirement disagrees with the matrix: "
        f"{sorted(secured ^ HTTP_MATRIX.keys())}"
    )


def _exposed_rpcs(target: str) -> set[str]:
    """Every method of every service the server's reflection lists."""
    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        pool = descriptor_pool.DescriptorPool(database)
        return {
            f"{service}/{method.name}"
            for service in database.get_services()
            for method in pool.FindServiceByName(service).methods
        }


async def test_every_rpc_has_an_entry(security_stack: SecurityStack) -> None:
    # Reflection's descriptor database speaks through a synchronous channel.
    exposed = await asyncio.to_thread(_exposed_rpcs, security_stack.grpc_target)
    listed = RPC_MATRIX.keys() | PUBLIC_RPC.keys()
    missing = sorted(exposed - listed)
    assert not missing, (
        f"RPCs without an entry in tests/security/matrix.py (RPC_MATRIX or PUBLIC_RPC): {missing}"
    )
    stale = sorted(listed - exposed)
    assert not stale, f"matrix entries for RPCs the order service does not expose: {stale}"


# The forger is honest: its unforged token is accepted by both services -------------------------


async def test_a_genuine_token_from_the_forger_is_accepted(
    cast: Cast, http: httpx.AsyncClient, channel: grpc.aio.Channel
) -> None:
    as_victim = cast.forger.genuine(cast.victim.id, role="user")
    me = await http.get("/v1/users/me", headers={"authorization": f"Bearer {as_victim}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(cast.victim.id)
    as_admin = cast.forger.genuine(cast.admin.id, role="admin")
    listed = await http.get("/v1/users", headers={"authorization": f"Bearer {as_admin}"})
    assert listed.status_code == 200, listed.text
    orders = await order_pb2_grpc.OrderServiceStub(channel).ListOrders(
        order_pb2.ListOrdersRequest(), metadata=(("authorization", f"Bearer {as_victim}"),)
    )
    assert [order.id for order in orders.orders] == [cast.victim.order_id]


# The matrix ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "attack"), cells(HTTP_MATRIX))
async def test_http_route_refuses(
    route: str,
    attack: Attack,
    *,
    cast: Cast,
    http: httpx.AsyncClient,
    probe: StateProbe,
    security_stack: SecurityStack,
) -> None:
    entry, call = HTTP_MATRIX[route], f"{route} [{attack}]"
    expectation = entry.expect[attack]
    method, path = route.split(" ", 1)
    authorization, target = _attacker_and_target(attack, cast)

    before = await probe.snapshot()
    response = await http.request(
        method, path.format(user_id=target.id), json=entry.body, headers=_headers(authorization)
    )
    if attack is Attack.OTHER_USERS_RESOURCE:
        # The same answer, byte for byte, as for an id that does not exist.
        unknown = await http.request(
            method,
            path.format(user_id=uuid.uuid4()),
            json=entry.body,
            headers=_headers(authorization),
        )
        assert (response.status_code, response.content) == (unknown.status_code, unknown.content), (
            f"{call}: someone else's id answers unlike an unknown id"
        )
    after = await probe.snapshot()

    if isinstance(expectation, Allowed):
        assert response.status_code == expectation.status, f"{call}: {response.text}"
        if attack is Attack.DEACTIVATED_USER:
            assert response.json()["is_active"] is False
    else:
        assert_http_refusal(response, expectation, attack, call)
    assert_unchanged(before, after, call)
    assert security_stack.canary.requests == [], f"{call}: outbound requests were attempted"


def _rpc_target(account: Account) -> Target:
    return Target(order_id=account.order_id, idempotency_key=f"matrix-{short_id()}")


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


@pytest.mark.parametrize(("rpc", "attack"), cells(RPC_MATRIX))
async def test_rpc_refuses(
    rpc: str,
    attack: Attack,
    *,
    cast: Cast,
    channel: grpc.aio.Channel,
    probe: StateProbe,
    security_stack: SecurityStack,
) -> None:
    entry, call = RPC_MATRIX[rpc], f"{rpc} [{attack}]"
    expectation = entry.expect[attack]
    authorization, target = _attacker_and_target(attack, cast)
    request = entry.request(_rpc_target(target))
    method = channel.unary_unary(
        f"/{rpc}", request_serializer=_serialize, response_deserializer=None
    )
    metadata = (("authorization", authorization),) if authorization is not None else ()

    before = await probe.snapshot()
    failure: grpc.aio.AioRpcError | None = None
    try:
        await method(request, metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        failure = error
    after = await probe.snapshot()

    if isinstance(expectation, Allowed):
        assert failure is None, (
            f"{call}: {failure and failure.code()}: {failure and failure.details()}"
        )
    else:
        assert failure is not None, f"{call}: answered OK; expected {expectation.status}"
        assert_rpc_refusal(failure, expectation, call)
    assert_unchanged(before, after, call)
    assert security_stack.canary.requests == [], f"{call}: outbound requests were attempted"


# Around the matrix -----------------------------------------------------------------------------


async def test_a_deactivated_user_gets_no_new_token(
    cast: Cast, http: httpx.AsyncClient, probe: StateProbe
) -> None:
    before = await probe.snapshot()
    response = await http.post(
        "/v1/auth/token", json={"email": cast.deactivated.email, "password": PASSWORD}
    )
    after = await probe.snapshot()
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "invalid email or password"
    # Counting attempts is what the login throttle is for: its keys are the only new ones.
    assert_unchanged(
        before, after, "POST /v1/auth/token [deactivated_user]", new_keys_allowed=b"throttle:"
    )
