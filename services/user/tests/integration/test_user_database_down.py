"""PostgreSQL unreachable: a request that needs it gets 503 problem+json, never a 500.

The app runs in-process as a server would run it, over real Redis, with its database URL
pointing at a loopback port nobody listens on: every connection attempt is refused by the
kernel, as when the chaos drill stop-postgres stops the server.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from threadline_native.net import free_port
from user_service.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(redis_db_url: str, tmp_path: Path) -> Settings:
    """The conftest's `client` runs on these: a database URL nobody answers on."""
    return Settings(
        database_url=SecretStr(f"postgresql+asyncpg://user:pw@127.0.0.1:{free_port()}/users"),
        redis_url=SecretStr(redis_db_url),
        signing_keys_dir=tmp_path / "keys",
        require_migrated_database=False,
        db_pool_size=1,
        orders_consumer_enabled=False,
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/auth/token", {"email": "nobody@example.com", "password": "x" * 12}),
        (
            "POST",
            "/v1/users",
            {"email": "new@example.com", "full_name": "New User", "password": "Tr0ub4dor&3x!"},
        ),
    ],
)
async def test_a_request_that_needs_the_database_is_refused_503_problem_json(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO)

    response = await client.request(method, path, json=body)

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    problem = response.json()
    assert problem["type"] == "urn:threadline:problem:unavailable"
    assert problem["detail"] == "the user database is unavailable; retry shortly"
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("user_service")]
    assert "unhandled error" not in messages
    assert "request refused: the database is unavailable" in messages
    assert not any("Connect call failed" in r.getMessage() for r in caplog.records)
