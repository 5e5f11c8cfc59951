"""Single-flight: one load per key however many callers wait for it."""

from __future__ import annotations

import asyncio

import pytest

from user_service.adapters.single_flight import SingleFlight


async def test_concurrent_callers_of_one_key_share_one_load() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    loads = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return 42

    callers = [asyncio.create_task(flights.run("user:1", load)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*callers) == [42] * 50
    assert loads == 1
    assert len(flights) == 0


async def test_different_keys_load_separately() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    async def load_a() -> str:
        return "a"

    async def load_b() -> str:
        return "b"

    assert list(await asyncio.gather(flights.run("a", load_a), flights.run("b", load_b))) == [
        "a",
        "b",
    ]


async def test_a_caller_giving_up_does_not_cancel_the_load_for_the_others() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def load() -> int:
        await release.wait()
        return 7

    impatient = asyncio.create_task(flights.run("k", load))
    patient = asyncio.create_task(flights.run("k", load))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == 7
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_a_failed_load_fails_every_waiter_and_is_not_remembered() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    attempts = 0

    async def load() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        if attempts == 1:
            raise ConnectionError("database gone")
        return 1

    results = await asyncio.gather(
        flights.run("k", load), flights.run("k", load), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await flights.run("k", load) == 1
