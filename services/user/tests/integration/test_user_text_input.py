"""Text no store or encoder can hold, sent over HTTP to the app on real PostgreSQL and Redis.

A NUL, an unpaired surrogate (escaped as ``\\ud800``) or a byte that is not UTF-8, in any text
field, is a 422 problem naming that field: no 500, no row, and no log line holding the
caller's email, password, password hash or any SQL parameter. A request that does fail with a
500 leaves its error lines joined to the caller's trace, and just as clean.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from observability.logging import JsonFormatter
from observability.redaction import RedactionFilter
from observability.testing import isolated_telemetry
from user_service.adapters.tables import users
from user_service.main import create_app
from user_service.settings import Settings

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
NUL = "must not contain the NUL character"
NOT_UTF8 = "must be valid UTF-8 (no unpaired surrogate, no undecodable byte)"
# How each kind of bad text travels in a JSON body, and what the field is told.
BAD_TEXT = {
    "nul": (b"\\u0000", NUL),
    "lone surrogate": (b"\\ud800", NOT_UTF8),
    "byte not utf-8": (b"\xff", NOT_UTF8),
}

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_logs() -> Iterator[Lines]:
    """Root-logger lines as the service's stdout handler writes them, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="user"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [orjson.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous_level)


def _body(fields: dict[str, str], field: str, bad: bytes) -> bytes:
    """``fields`` as JSON bytes, with ``bad`` inserted raw into ``field``'s string."""
    parts = []
    for name, value in fields.items():
        encoded = orjson.dumps(value)
        if name == field:
            encoded = encoded[:-1] + bad + b'"'
        parts.append(orjson.dumps(name) + b":" + encoded)
    return b"{" + b",".join(parts) + b"}"


def assert_refused(response: httpx.Response, where: dict[str, str], detail: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [{"detail": detail, **where}]


REGISTRATION = {"email": "ada@example.com", "full_name": "Ada Lovelace", "password": PASSWORD}


@pytest.mark.parametrize("kind", BAD_TEXT)
@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/v1/users", REGISTRATION),
        ("/v1/auth/token", {"email": "ada@example.com", "password": PASSWORD}),
    ],
)
async def test_bad_text_in_any_field_of_a_public_body_is_a_422_naming_it(
    client: httpx.AsyncClient, path: str, fields: dict[str, str], kind: str
) -> None:
    bad, detail = BAD_TEXT[kind]
    for field in fields:
        response = await client.post(
            path, content=_body(fields, field, bad), headers={"content-type": "application/json"}
        )
        assert_refused(response, {"pointer": f"#/{field}"}, detail)


@pytest.mark.parametrize("kind", BAD_TEXT)
async def test_bad_text_in_any_field_of_a_profile_change_is_a_422_naming_it(
    client: httpx.AsyncClient, sign_up: Any, kind: str
) -> None:
    ada = await sign_up("ada@example.com")
    bad, detail = BAD_TEXT[kind]
    change = {"email": "ada@example.org", "full_name": "Ada", "password": "another passphrase"}
    for field, value in change.items():
        response = await client.patch(
            f"/v1/users/{ada.id}",
            content=_body({field: value}, field, bad),
            headers={"content-type": "application/json", **ada.auth},
        )
        assert_refused(response, {"pointer": f"#/{field}"}, detail)
    unchanged = await client.get(f"/v1/users/{ada.id}", headers=ada.auth)
    assert unchanged.json()["full_name"] == "Test User"


async def test_a_nul_in_the_page_cursor_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, admin: Any
) -> None:
    response = await client.get("/v1/users", params={"cursor": "abc\x00"}, headers=admin.auth)
    assert_refused(response, {"parameter": "cursor"}, NUL)


async def test_a_registration_with_nul_in_its_name_is_refused_before_the_database(
    client: httpx.AsyncClient, settings: Settings, json_logs: Lines
) -> None:
    response = await client.post(
        "/v1/users",
        content=_body(REGISTRATION, "full_name", b"\\u0000"),
        headers={"content-type": "application/json", "traceparent": TRACEPARENT},
    )

    assert_refused(response, {"pointer": "#/full_name"}, NUL)
    engine = create_async_engine(settings.database_url.get_secret_value())
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(users))).scalar() == 0
    finally:
        await engine.dispose()
    lines = json_logs()
    logged = repr(lines)
    for private in ("ada@example.com", PASSWORD, "$argon2id$", "parameters", "INSERT INTO"):
        assert private not in logged
    (refusal,) = [line for line in lines if line["message"] == "request refused"]
    assert refusal["trace_id"] == TRACE_ID
    assert (refusal["http.response.status_code"], refusal["invalid_fields"]) == (
        422,
        ["#/full_name"],
    )


class _HasherWhoseHashesPostgreSQLRefuses:
    """Hashes with a NUL in them: the INSERT fails inside PostgreSQL, as an unforeseen bug would."""

    async def hash(self, password: str) -> str:
        return "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g\x00"

    async def verify(self, password_hash: str, password: str) -> bool:
        return False

    async def verify_nothing(self, password: str) -> None:
        return None

    def needs_rehash(self, password_hash: str) -> bool:
        return False


@asynccontextmanager
async def _client_with_failing_writes(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        services = dataclasses.replace(
            state["services"], hasher=_HasherWhoseHashesPostgreSQLRefuses()
        )

        async def with_lifespan_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = {**state, "services": services}
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_lifespan_state, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://user.test") as http:
            yield http


async def test_a_500_leaves_error_lines_joined_to_the_callers_trace_without_the_row(
    settings: Settings, json_logs: Lines
) -> None:
    telemetry, spans = isolated_telemetry()
    app = create_app(settings, telemetry)
    try:
        async with _client_with_failing_writes(app) as client:
            response = await client.post(
                "/v1/users", json=REGISTRATION, headers={"traceparent": TRACEPARENT}
            )
    finally:
        await telemetry.shutdown()

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    (server,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    span_id = format(server.context.span_id, "016x")
    assert format(server.context.trace_id, "032x") == TRACE_ID
    errors = [line for line in json_logs() if "exception.type" in line]
    # One line: a database error has its own handler (503 when unreachable, else 500), which
    # answers without re-raising, so the middleware's "Exception in ASGI application" (written
    # for errors that escape to Starlette's last-resort handler) is not repeated.
    assert [(line["logger"], line["message"]) for line in errors] == [
        ("user_service.api.problems", "unhandled error"),
    ]
    for line in errors:
        assert (line["trace_id"], line["span_id"]) == (TRACE_ID, span_id), line["logger"]
        assert "INSERT INTO users" in line["exception.message"]
        assert "[SQL parameters hidden due to hide_parameters=True]" in line["exception.message"]
        for private in ("ada@example.com", PASSWORD, "$argon2id$", "aGFzaGhhc2g", "Lovelace"):
            assert private not in repr(line)
    recorded = repr([dict(event.attributes or {}) for event in server.events])
    assert "ada@example.com" not in recorded
    assert "$argon2id$" not in recorded
