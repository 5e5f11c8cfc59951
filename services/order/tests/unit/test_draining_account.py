"""The drain's own account: one line saying what ran, how it ended, what was refused."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import grpc
import pytest

from order_service.api.draining import DrainingInterceptor

SERVICE = "test.Slow"
CALL = f"/{SERVICE}/Call"


class _Slow:
    """A handler that says when each call reached it, then takes its time."""

    def __init__(self) -> None:
        self.arrived: asyncio.Queue[bytes] = asyncio.Queue()

    async def __call__(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        self.arrived.put_nowait(request)
        return await _slow(request, context)


async def _slow(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    await asyncio.sleep(3.0 if request == b"long" else 0.3)
    if request == b"missing":
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    return b"done"


async def _serve(draining: DrainingInterceptor, slow: _Slow) -> tuple[grpc.aio.Server, str]:
    server = grpc.aio.server(interceptors=[draining])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Call": grpc.unary_unary_rpc_method_handler(slow)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


Served = tuple[DrainingInterceptor, _Slow, grpc.aio.Server, str]


@pytest.fixture
async def served(caplog: pytest.LogCaptureFixture) -> Served:
    """A server with the drain's interceptor and a slow handler; its drain line captured."""
    draining = DrainingInterceptor(frozenset({SERVICE}))
    slow = _Slow()
    server, target = await _serve(draining, slow)
    caplog.set_level(logging.INFO, logger="order_service.api.draining")
    return draining, slow, server, target


def _drain_line(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    [line] = [r for r in caplog.records if r.getMessage() == "grpc drain finished"]
    return {key: value for key, value in vars(line).items() if key.startswith("drain.")}


async def test_the_drain_completes_running_calls_refuses_new_ones_and_says_so(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    draining, slow, server, target = served
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(CALL)

        async def outcome(request: bytes) -> str:
            try:
                await call(request, timeout=5)
            except grpc.aio.AioRpcError as error:
                return str(error.code().name)
            return "OK"

        running = [asyncio.create_task(outcome(r)) for r in (b"a", b"b", b"missing")]
        for _ in running:
            await slow.arrived.get()
        drain = asyncio.create_task(draining.drain(server, 5.0))
        await asyncio.sleep(0.05)
        late = await outcome(b"late")
        await drain
        outcomes = await asyncio.gather(*running)

    assert outcomes == ["OK", "OK", "NOT_FOUND"]
    assert late == "UNAVAILABLE"
    account = _drain_line(caplog)
    assert account.pop("drain.seconds") >= 0.2
    assert account == {
        "drain.running_at_start": 3,
        "drain.ended_ok": 2,
        "drain.ended_with_error": 1,
        "drain.refused": 1,
        "drain.left_running": 0,
    }


async def test_a_call_still_running_when_the_grace_period_ends_is_counted_as_left(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    draining, slow, server, target = served
    async with grpc.aio.insecure_channel(target) as channel:
        call = asyncio.ensure_future(channel.unary_unary(CALL)(b"long", timeout=5))
        await slow.arrived.get()
        # One second of the grace is kept for later steps: the wait gives up after 0.2 s.
        await draining.drain(server, 1.2)
        with pytest.raises(grpc.aio.AioRpcError):
            await call

    account = _drain_line(caplog)
    assert account["drain.running_at_start"] == 1
    assert account["drain.left_running"] == 1
    assert account["drain.ended_ok"] == 0


async def test_callers_that_never_pause_do_not_hold_the_drain_for_the_grace_period(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    draining, slow, server, target = served
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(CALL)
        running = asyncio.ensure_future(call(b"a", timeout=5))
        await slow.arrived.get()

        async def keep_calling() -> None:
            # A paced client on its open connection: never a quiet quarter-second.
            while True:
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await call(b"again", timeout=5)
                await asyncio.sleep(0.1)

        caller = asyncio.create_task(keep_calling())
        try:
            # A 30 s grace: held for it, the drain would outlast this wait by far.
            async with asyncio.timeout(10):
                await draining.drain(server, 30.0)
        finally:
            caller.cancel()
        assert await running == b"done"

    account = _drain_line(caplog)
    assert account["drain.refused"] >= 3
    assert account["drain.ended_ok"] == 1
