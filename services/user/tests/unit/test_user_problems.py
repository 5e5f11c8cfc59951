"""The edge's own rules without I/O: problem pointers and the body size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from user_service.api.middleware.body_limit import BodyLimitMiddleware
from user_service.api.problems import _field_error, install_problem_handlers

LIMIT = 1024


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"loc": ("body", "email"), "msg": "bad"}, {"detail": "bad", "pointer": "#/email"}),
        ({"loc": ("body", "tags", 2), "msg": "bad"}, {"detail": "bad", "pointer": "#/tags/2"}),
        ({"loc": ("body", "a/b~c"), "msg": "bad"}, {"detail": "bad", "pointer": "#/a~1b~0c"}),
        ({"loc": ("body",), "msg": "missing"}, {"detail": "missing", "pointer": "#"}),
        ({"loc": ("body", 9), "msg": "x", "type": "json_invalid"}, {"detail": "x", "pointer": "#"}),
        ({"loc": ("query", "limit"), "msg": "bad"}, {"detail": "bad", "parameter": "limit"}),
        ({"loc": ("path", "user_id"), "msg": "bad"}, {"detail": "bad", "parameter": "user_id"}),
    ],
)
def test_each_bad_input_is_located_by_json_pointer_or_parameter(
    error: dict[str, object], expected: dict[str, str]
) -> None:
    assert _field_error(error) == expected


@pytest.fixture
def echo() -> httpx.AsyncClient:
    app = FastAPI()

    @app.post("/echo")
    async def echo_body(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=LIMIT)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_body_at_the_limit_passes(echo: httpx.AsyncClient) -> None:
    response = await echo.post("/echo", content=b"x" * LIMIT)
    assert response.json() == {"received": LIMIT}


async def test_a_declared_body_over_the_limit_is_refused_unread(echo: httpx.AsyncClient) -> None:
    response = await echo.post("/echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_streamed_body_is_refused_when_it_crosses_the_limit(
    echo: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 400

    response = await echo.post("/echo", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["status"] == 413
