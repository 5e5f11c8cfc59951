"""What a refused call must leave behind (nothing) and what it must answer (a clear refusal).

`StateProbe.snapshot()` reads every table of both databases (row count and a checksum of the
rows, so an UPDATE shows too), the outbox's published-events counter, and every Redis key;
`assert_http_refusal` and `assert_rpc_refusal` check the answer's shape.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Final

import asyncpg
import grpc
import httpx
from google.rpc import error_details_pb2, status_pb2
from redis.asyncio import Redis

from .matrix import Attack, Refused

# Text that only an unhandled exception would put into an answer.
_STACK_TRACE: Final = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\w+Error:|\.py\b"
)
_DETAILS_KEY: Final = "grpc-status-details-bin"
# Kafka consumer group join included.
_SETTLE_SECONDS: Final = 60


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, tuple[int, str]]
    outbox_published: float
    redis_keys: frozenset[bytes]


class StateProbe:
    """Reads the state of both services' stores; one connection each, kept for the session."""

    def __init__(
        self,
        databases: dict[str, asyncpg.Connection],
        redis: Redis,
        http: httpx.AsyncClient,
        order_metrics_url: str,
    ) -> None:
        self._databases = databases
        self._redis = redis
        self._http = http
        self._order_metrics_url = order_metrics_url
        self._tables: dict[str, list[str]] = {}

    async def snapshot(self) -> Snapshot:
        tables: dict[str, tuple[int, str]] = {}
        for name, connection in self._databases.items():
            if name not in self._tables:
                rows = await connection.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
                self._tables[name] = [row["tablename"] for row in rows]
            for table in self._tables[name]:
                row = await connection.fetchrow(
                    f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608 - names from pg_tables
                    f"ORDER BY t::text), '')) AS digest FROM \"{table}\" t"
                )
                assert row is not None
                tables[f"{name}.{table}"] = (row["n"], row["digest"])
        keys = frozenset(
            key if isinstance(key, bytes) else key.encode() for key in await self._redis.keys("*")
        )
        return Snapshot(tables, await self._outbox_published(), keys)

    async def settle(self, *, expected_events: int) -> None:
        """Wait until the relay has published every outbox row and the user service's consumer
        has applied them all, so that nothing moves underneath the matrix."""
        orders, users = self._databases["orders"], self._databases["users"]
        backlog = applied = None
        try:
            async with asyncio.timeout(_SETTLE_SECONDS):
                while True:
                    backlog = await orders.fetchval("SELECT count(*) FROM outbox")
                    applied = await users.fetchval("SELECT count(*) FROM order_events_inbox")
                    if backlog == 0 and applied >= expected_events:
                        return
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(
                f"events did not settle in {_SETTLE_SECONDS} s: {backlog} in the outbox, "
                f"{applied} of {expected_events} applied by the user service"
            ) from None

    async def _outbox_published(self) -> float:
        response = await self._http.get(self._order_metrics_url)
        response.raise_for_status()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in response.text.splitlines()
            if line.startswith("outbox_events_published_total")
        )


def assert_unchanged(
    before: Snapshot, after: Snapshot, call: str, *, new_keys_allowed: bytes | None = None
) -> None:
    """Nothing moved: no table's rows, no published event, no Redis key that was not there
    (except those beginning with `new_keys_allowed`)."""
    changed = [
        f"{table}: {before.tables.get(table, (0, ''))[0]} -> {after.tables.get(table, (0, ''))[0]}"
        " rows" + ("" if before.tables.get(table) else " (new table)")
        for table in sorted(set(before.tables) | set(after.tables))
        if before.tables.get(table) != after.tables.get(table)
    ]
    assert not changed, f"{call} changed the databases: {changed}"
    assert after.outbox_published == before.outbox_published, (
        f"{call} had the relay publish {after.outbox_published - before.outbox_published} events"
    )
    new_keys = sorted(
        key
        for key in after.redis_keys - before.redis_keys
        if new_keys_allowed is None or not key.startswith(new_keys_allowed)
    )
    assert not new_keys, f"{call} left Redis keys behind: {new_keys}"


def assert_no_stack_trace(text: str, call: str) -> None:
    found = _STACK_TRACE.search(text)
    assert found is None, f"{call} answered with what looks like a stack trace: {found.group()!r}"


def assert_http_refusal(
    response: httpx.Response, refusal: Refused, attack: Attack, call: str
) -> None:
    """RFC 9457 problem+json with the documented status; 401s carry an RFC 6750 challenge."""
    assert response.status_code == refusal.status, (
        f"{call}: expected {refusal.status}, got {response.status_code}: {response.text}"
    )
    media_type = response.headers.get("content-type", "").partition(";")[0]
    assert media_type == "application/problem+json", f"{call}: content-type {media_type!r}"
    assert_no_stack_trace(response.text, call)
    problem = response.json()
    for member in ("type", "title", "status", "detail"):
        assert problem.get(member), f"{call}: the problem has no {member!r}: {problem}"
    assert problem["status"] == refusal.status, f"{call}: problem status {problem['status']}"
    assert re.search(refusal.names, problem["detail"]), (
        f"{call}: the detail {problem['detail']!r} does not say what was wrong (/{refusal.names}/)"
    )
    if refusal.status == 401:
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.startswith("Bearer"), f"{call}: WWW-Authenticate {challenge!r}"
        if attack is not Attack.NO_CREDENTIALS:
            assert 'error="invalid_token"' in challenge, f"{call}: WWW-Authenticate {challenge!r}"


def _status_details(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    for key, value in error.trailing_metadata() or ():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None


def assert_rpc_refusal(error: grpc.aio.AioRpcError, refusal: Refused, call: str) -> None:
    """The documented status code, a message naming what was wrong, google.rpc details."""
    assert error.code().name == refusal.status, (
        f"{call}: expected {refusal.status}, got {error.code().name}: {error.details()}"
    )
    message = error.details() or ""
    assert_no_stack_trace(message, call)
    assert re.search(refusal.names, message), (
        f"{call}: the message {message!r} does not say what was wrong (/{refusal.names}/)"
    )
    status = _status_details(error)
    assert status is not None, f"{call}: no {_DETAILS_KEY} trailer"
    assert status.code == error.code().value[0], f"{call}: the trailer's code: {status}"
    assert status.message == message, f"{call}: the trailer's message: {status}"
    if refusal.reason is not None:
        reasons = []
        for packed in status.details:
            info = error_details_pb2.ErrorInfo()
            if packed.Unpack(info):
                reasons.append(info.reason)
        assert refusal.reason in reasons, f"{call}: ErrorInfo reasons {reasons}"
    if refusal.status == "NOT_FOUND":
        assert any(
            packed.Is(error_details_pb2.ResourceInfo.DESCRIPTOR) for packed in status.details
        ), f"{call}: no ResourceInfo in {status}"
