"""The admin server's bearer token, over real HTTP: probes stay open, the rest asks for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from observability import Telemetry
from observability.testing import isolated_telemetry

TOKEN = "s3cret-admin-token-for-tests"


@pytest.fixture
async def guarded() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real admin server configured with `TOKEN`."""
    telemetry, _ = isolated_telemetry(admin_token=TOKEN)
    await telemetry.admin.start()
    telemetry.health.mark_started()
    async with httpx.AsyncClient(base_url=telemetry.admin.url) as client:
        yield client
    await telemetry.admin.stop()
    telemetry.shutdown_sync()


@pytest.mark.parametrize("probe", ["/healthz", "/livez", "/readyz", "/startupz"])
async def test_probes_answer_without_a_token(guarded: httpx.AsyncClient, probe: str) -> None:
    assert (await guarded.get(probe)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", f"Basic {TOKEN}", "Bearer wrong", f"Bearer {TOKEN}x"],
)
async def test_metrics_without_the_right_bearer_token_is_401_with_a_challenge(
    guarded: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await guarded.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="admin"')
    assert TOKEN not in response.text
    assert "# TYPE http_server_request_duration_seconds" not in response.text


async def test_a_wrong_token_is_named_invalid_in_the_challenge(
    guarded: httpx.AsyncClient,
) -> None:
    response = await guarded.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_metrics_with_the_token_is_served(guarded: httpx.AsyncClient) -> None:
    for scheme in ("Bearer", "bearer"):
        response = await guarded.get("/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200
        assert "# TYPE http_server_request_duration_seconds" in response.text


async def test_unknown_paths_and_other_methods_ask_for_the_token_first(
    guarded: httpx.AsyncClient,
) -> None:
    # Without the token nothing tells which paths exist.
    assert (await guarded.get("/admin")).status_code == 401
    assert (await guarded.post("/metrics")).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await guarded.get("/admin", headers=auth)).status_code == 404
    assert (await guarded.post("/metrics", headers=auth)).status_code == 405


async def test_without_a_token_configured_any_authorization_header_is_ignored(
    telemetry: Telemetry,
) -> None:
    # What Prometheus sends when its credentials file is empty: "Bearer" (Go trims the space).
    await telemetry.admin.start()
    try:
        async with httpx.AsyncClient(base_url=telemetry.admin.url) as client:
            for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"}):
                assert (await client.get("/metrics", headers=headers)).status_code == 200
    finally:
        await telemetry.admin.stop()


async def test_a_raw_request_gets_the_challenge_and_the_connection_closes(
    guarded: httpx.AsyncClient,
) -> None:
    port = int(str(guarded.base_url).rsplit(":", 1)[1].rstrip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 401 Unauthorized\r\n")
    assert 'WWW-Authenticate: Bearer realm="admin"' in head
