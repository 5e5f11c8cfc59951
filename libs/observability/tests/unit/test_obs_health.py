"""HealthRegistry without HTTP: caching, single-flight, redaction of errors, listeners."""

from __future__ import annotations

import asyncio

from observability.health import CheckState, HealthRegistry


async def test_results_are_cached_for_the_configured_time() -> None:
    now = 0.0
    calls = 0

    async def check() -> None:
        nonlocal calls
        calls += 1

    health = HealthRegistry(cache_seconds=1.0, clock=lambda: now)
    health.add_check("db", check)
    health.mark_started()

    await health.readiness()
    await health.readiness()
    assert calls == 1
    now = 1.5
    await health.readiness()
    assert calls == 2


async def test_concurrent_probes_share_one_run_of_a_check() -> None:
    calls = 0
    release = asyncio.Event()

    async def check() -> None:
        nonlocal calls
        calls += 1
        await release.wait()

    health = HealthRegistry(cache_seconds=0.0)
    health.add_check("db", check)
    probes = [asyncio.create_task(health.readiness()) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    reports = await asyncio.gather(*probes)

    assert calls == 1
    assert {report.checks[0].state for report in reports} == {CheckState.OK}


async def test_check_errors_do_not_leak_credentials() -> None:
    async def check() -> None:
        raise ConnectionError("cannot reach postgresql://app:s3cr3t@db:5432/users")

    health = HealthRegistry()
    health.add_check("db", check)

    (result,) = (await health.readiness()).checks

    assert result.error is not None
    assert "s3cr3t" not in result.error


async def test_listeners_hear_draining_once() -> None:
    heard: list[bool] = []
    health = HealthRegistry()
    health.add_listener(heard.append)

    health.start_draining()
    health.start_draining()

    assert heard == [False]
    assert not (await health.readiness()).ok
