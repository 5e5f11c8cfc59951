"""The HTTP API in-process over real PostgreSQL and Redis: flows, authorization, problems."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from user_service.adapters.keys import KeyRing, new_signing_key
from user_service.settings import Settings

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:threadline:problem:")
    assert body["title"]
    return body


async def test_register_log_in_read_change_and_delete_yourself(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    ada = await sign_up("Ada@Example.COM")
    me = await client.get("/v1/users/me", headers=ada.auth)
    assert me.status_code == 200
    body = me.json()
    # The domain part is normalised; the local part keeps its case.
    assert (body["id"], body["email"], body["role"], body["is_active"]) == (
        ada.id,
        "Ada@example.com",
        "user",
        True,
    )
    assert (body["order_count"], body["total_spent_cents"]) == (0, 0)
    assert "password" not in me.text
    assert "hash" not in me.text

    changed = await client.patch(
        f"/v1/users/{ada.id}", headers=ada.auth, json={"full_name": "Ada L."}
    )
    assert changed.status_code == 200
    assert changed.json()["full_name"] == "Ada L."
    again = await client.get(f"/v1/users/{ada.id}", headers=ada.auth)
    assert again.json()["full_name"] == "Ada L."  # the cached copy was invalidated

    deleted = await client.delete(f"/v1/users/{ada.id}", headers=ada.auth)
    assert deleted.status_code == 204
    assert_problem(await client.get(f"/v1/users/{ada.id}", headers=ada.auth), 404)


async def test_registration_answers_201_with_location(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/users",
        json={"email": "grace@example.com", "full_name": "Grace", "password": "a long passphrase"},
    )
    assert response.status_code == 201
    assert response.headers["location"] == f"/v1/users/{response.json()['id']}"


async def test_an_email_registered_in_another_case_is_a_409(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    await sign_up("ada@example.com")
    response = await client.post(
        "/v1/users",
        json={"email": "ADA@example.com", "full_name": "Ada", "password": "another passphrase"},
    )
    assert_problem(response, 409)


async def test_another_users_record_can_be_neither_read_changed_nor_deleted(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    ada, bob = await sign_up("ada@example.com"), await sign_up("bob@example.com")
    missing = "01890000-0000-7000-8000-000000000000"
    for method, body in (("GET", None), ("PATCH", {"full_name": "Mallory"}), ("DELETE", None)):
        theirs = await client.request(method, f"/v1/users/{ada.id}", headers=bob.auth, json=body)
        nobodys = await client.request(method, f"/v1/users/{missing}", headers=bob.auth, json=body)
        # No enumeration: someone's record and no record answer byte for byte the same.
        assert_problem(theirs, 404)
        assert (theirs.status_code, theirs.content) == (nobodys.status_code, nobodys.content)
    mine = await client.get(f"/v1/users/{ada.id}", headers=ada.auth)
    assert mine.json()["full_name"] == "Test User"


async def test_listing_needs_the_admin_role_and_pages_with_a_cursor(
    client: httpx.AsyncClient, sign_up: Any, admin: Any
) -> None:
    accounts = [await sign_up(f"user{n}@example.com") for n in range(5)]
    assert_problem(await client.get("/v1/users", headers=accounts[0].auth), 403)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/v1/users", headers=admin.auth, params=params)
        assert page.status_code == 200, page.text
        seen += [user["id"] for user in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([admin.id] + [account.id for account in accounts])
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(("limit", "status"), [(0, 422), (101, 422), (100, 200)])
async def test_page_size_is_bounded(
    client: httpx.AsyncClient, admin: Any, limit: int, status: int
) -> None:
    response = await client.get("/v1/users", headers=admin.auth, params={"limit": limit})
    assert response.status_code == status
    if status == 422:
        assert assert_problem(response, 422)["errors"] == [
            {"detail": response.json()["errors"][0]["detail"], "parameter": "limit"}
        ]


async def test_a_forged_cursor_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, admin: Any
) -> None:
    response = await client.get("/v1/users", headers=admin.auth, params={"cursor": "bm90LW91cnM"})
    assert assert_problem(response, 422)["errors"][0]["parameter"] == "cursor"


async def test_an_admin_reads_changes_and_deactivates_anyone(
    client: httpx.AsyncClient, sign_up: Any, admin: Any
) -> None:
    ada = await sign_up("ada@example.com")
    assert (await client.get(f"/v1/users/{ada.id}", headers=admin.auth)).status_code == 200
    deactivated = await client.patch(
        f"/v1/admin/users/{ada.id}", headers=admin.auth, json={"is_active": False}
    )
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    # The order service's check sees it at once: the cached copy was invalidated.
    assert (await client.get(f"/v1/users/{ada.id}", headers=admin.auth)).json()[
        "is_active"
    ] is False
    refused = await client.post(
        "/v1/auth/token", json={"email": ada.email, "password": ada.password}
    )
    assert_problem(refused, 401)


async def test_a_user_cannot_make_themself_admin(client: httpx.AsyncClient, sign_up: Any) -> None:
    ada = await sign_up("ada@example.com")
    # Not through their own record: the field is not part of what they may send...
    sneaky = await client.patch(f"/v1/users/{ada.id}", headers=ada.auth, json={"role": "admin"})
    assert assert_problem(sneaky, 422)["errors"][0]["pointer"] == "#/role"
    # ...nor through the admin endpoint.
    direct = await client.patch(
        f"/v1/admin/users/{ada.id}", headers=ada.auth, json={"role": "admin"}
    )
    assert_problem(direct, 403)
    assert (await client.get("/v1/users/me", headers=ada.auth)).json()["role"] == "user"


# Problems ---------------------------------------------------------------------------------------


async def test_validation_errors_point_at_each_bad_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/users",
        json={"email": "not-an-email", "full_name": "", "password": "short", "is_admin": True},
    )
    body = assert_problem(response, 422)
    pointers = sorted(error["pointer"] for error in body["errors"])
    assert pointers == ["#/email", "#/full_name", "#/is_admin", "#/password"]


async def test_the_password_policy_points_at_the_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/users",
        json={"email": "ada@example.com", "full_name": "Ada", "password": "password1234"},
    )
    assert assert_problem(response, 422)["errors"] == [
        {"detail": "the password is too common", "pointer": "#/password"}
    ]


@pytest.mark.parametrize(
    ("length", "status"), [(254, 201), (255, 422)], ids=["longest", "one-too-long"]
)
async def test_email_length_is_bounded(client: httpx.AsyncClient, length: int, status: int) -> None:
    # 64-character local part, then 63-character labels: every part at its own maximum.
    last_label = "d" * (length - 64 - 1 - 63 - 1 - 63 - 1 - len(".com"))
    email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{last_label}.com"
    assert len(email) == length
    response = await client.post(
        "/v1/users", json={"email": email, "full_name": "Long", "password": "a long passphrase"}
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert assert_problem(response, 422)["errors"][0]["pointer"] == "#/email"


async def test_broken_json_is_a_422_pointing_at_the_document(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/users", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 422)["errors"][0]["pointer"] == "#"


async def test_a_body_that_is_not_json_is_a_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/token", content=b"email=a&password=b", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415)
    form = await client.post("/v1/users", data={"email": "a@example.com"})
    assert_problem(form, 415)


async def test_an_oversized_body_is_a_413_whether_declared_or_streamed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    big = b'{"email": "' + b"a" * settings.max_body_bytes + b'"}'
    declared = await client.post(
        "/v1/users", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(declared, 413)

    async def chunks() -> Any:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = await client.post(
        "/v1/users", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413)


async def test_unknown_routes_and_wrong_methods_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404)
    wrong_method = await client.put("/v1/auth/token", json={})
    assert_problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # Two routes share the path: both methods are named, not only the first route's.
        ("OPTIONS", "/v1/users", "GET, POST"),
        ("PUT", f"/v1/users/{uuid.UUID(int=1)}", "DELETE, GET, PATCH"),
        # /me is not a /v1/users/{user_id}: no PATCH or DELETE there, and no 415 first.
        ("PATCH", "/v1/users/me", "GET"),
        ("DELETE", "/v1/users/me", "GET"),
    ],
)
async def test_a_wrong_method_is_a_405_allowing_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


async def test_a_malformed_id_names_no_user(client: httpx.AsyncClient, sign_up: Any) -> None:
    ada = await sign_up("ada@example.com")
    response = await client.get("/v1/users/not-a-uuid", headers=ada.auth)
    assert_problem(response, 404)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not.a.token", "Basic YWRhOnB3", "Bearer " + "a" * 5000],
)
async def test_requests_without_a_valid_token_are_401_with_a_challenge(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/v1/users/me", headers=headers)
    assert_problem(response, 401)
    challenge = response.headers["www-authenticate"]
    # RFC 6750: no error code when no bearer token came at all; invalid_token for a bad one.
    sent_a_token = authorization is not None and authorization.startswith("Bearer ")
    assert challenge == ('Bearer error="invalid_token"' if sent_a_token else "Bearer")


async def test_token_requests_are_limited_per_email_with_retry_after(
    client: httpx.AsyncClient, settings: Settings, sign_up: Any
) -> None:
    ada = await sign_up("ada@example.com")  # one attempt already counted
    for _ in range(settings.token_rate_limit_per_email - 1):
        response = await client.post(
            "/v1/auth/token", json={"email": ada.email, "password": "wrong password here"}
        )
        assert_problem(response, 401)
    limited = await client.post(
        "/v1/auth/token", json={"email": ada.email, "password": ada.password}
    )
    assert_problem(limited, 429)
    assert 1 <= int(limited.headers["retry-after"]) <= settings.token_rate_limit_window_seconds
    # Another email from the same client is still served.
    other = await client.post(
        "/v1/auth/token", json={"email": "bob@example.com", "password": "whatever it is"}
    )
    assert_problem(other, 401)


async def test_wrong_password_and_unknown_email_answer_the_same(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    ada = await sign_up("ada@example.com")
    wrong = await client.post("/v1/auth/token", json={"email": ada.email, "password": "nope nope"})
    unknown = await client.post(
        "/v1/auth/token", json={"email": "nobody@example.com", "password": "nope nope"}
    )
    assert_problem(wrong, 401)
    assert wrong.content == unknown.content


async def test_the_jwks_verifies_issued_tokens(client: httpx.AsyncClient, sign_up: Any) -> None:

    ada = await sign_up("ada@example.com")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(ada.token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    claims = jwt.decode(
        ada.token,
        jwt.PyJWK(jwk).key,
        algorithms=["EdDSA"],
        audience="threadline",
        issuer="threadline-user",
    )
    assert claims["sub"] == ada.id


async def test_forged_and_stale_tokens_are_refused_over_http(
    client: httpx.AsyncClient, sign_up: Any, settings: Settings
) -> None:
    """What an attacker holding only the JWKS (and one real token) can try, end to end."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    ada = await sign_up("ada@example.com")
    jwk = (await client.get("/.well-known/jwks.json")).json()["keys"][0]
    now = int(time.time())
    claims = {
        "iss": "threadline-user",
        "aud": "threadline",
        "sub": ada.id,
        "role": "admin",
        "iat": now,
        "exp": now + 600,
    }
    payload = b64(json.dumps(claims).encode())

    def unsigned(alg: str) -> str:
        return b64(json.dumps({"alg": alg, "typ": "JWT", "kid": jwk["kid"]}).encode())

    public_key = base64.urlsafe_b64decode(jwk["x"] + "==")
    hs256 = f"{unsigned('HS256')}.{payload}"
    hs256 += "." + b64(hmac.new(public_key, hs256.encode(), hashlib.sha256).digest())
    real_key = KeyRing.load_or_create(settings.signing_keys_dir).active
    expired = jwt.encode(
        {**claims, "role": "user", "iat": now - 3600, "exp": now - 1800},
        real_key.private_key,
        algorithm="EdDSA",
        headers={"kid": real_key.kid},
    )
    unknown_kid = jwt.encode(
        claims, new_signing_key().private_key, algorithm="EdDSA", headers={"kid": "k-retired"}
    )
    header, _, signature = ada.token.split(".")
    tampered = f"{header}.{payload}.{signature}"  # admin role grafted onto a real signature
    forgeries = {
        "alg none": f"{unsigned('none')}.{payload}.",
        "HS256 keyed with the public key": hs256,
        "expired": expired,
        "unknown kid": unknown_kid,
        "bad signature": tampered,
    }
    for name, token in forgeries.items():
        response = await client.get("/v1/users", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert_problem(response, 401)
    assert (await client.get("/v1/users/me", headers=ada.auth)).status_code == 200
