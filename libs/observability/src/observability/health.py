"""Liveness, readiness and startup from a registry of asynchronous checks.

A check is an ``async def`` that returns (pass) or raises (fail); it runs under its own timeout
and its result is cached for a short while so a burst of probes does not become a burst of
database round-trips. Readiness is false while the process is draining, whatever the checks say.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from observability.redaction import Redactor

__all__ = [
    "Check",
    "CheckResult",
    "CheckState",
    "HealthRegistry",
    "HealthReport",
    "Probe",
]

Probe = Literal["liveness", "readiness", "startup"]
CheckFunction = Callable[[], Awaitable[Any]]
ReadinessListener = Callable[[bool], None]
_REDACTOR = Redactor()


class CheckState(StrEnum):
    OK = "pass"
    FAIL = "fail"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    function: CheckFunction
    timeout: float
    critical: bool
    probes: frozenset[Probe]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    state: CheckState
    critical: bool
    duration_seconds: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "state": self.state.value,
            "critical": self.critical,
            "duration_ms": round(self.duration_seconds * 1000, 3),
        }
        if self.error is not None:
            result["error"] = self.error
        return result


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A probe's answer: ``ok`` decides 200 or 503; ``as_dict`` is the JSON body."""

    probe: Probe
    ok: bool
    checks: tuple[CheckResult, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "pass" if self.ok else "fail",
            "probe": self.probe,
            "reasons": list(self.reasons),
            "checks": {result.name: result.as_dict() for result in self.checks},
        }


@dataclass(slots=True)
class _Cached:
    result: CheckResult
    at: float


class HealthRegistry:
    """Holds the checks, the started flag and the draining flag of one process."""

    def __init__(
        self,
        *,
        default_timeout: float = 1.0,
        cache_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default_timeout = default_timeout
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._checks: dict[str, Check] = {}
        self._cache: dict[str, _Cached] = {}
        self._running: dict[str, asyncio.Task[CheckResult]] = {}
        self._started = False
        self._draining = False
        self._listeners: list[ReadinessListener] = []

    # Registration -----------------------------------------------------------------------

    def add_check(
        self,
        name: str,
        check: CheckFunction,
        *,
        timeout: float | None = None,
        critical: bool = True,
        probes: Iterable[Probe] = ("readiness",),
    ) -> None:
        """Register ``check`` (an async callable that raises on failure) for the given probes.

        A non-critical check is reported but never turns the probe to 503.
        """
        if name in self._checks:
            raise ValueError(f"a health check named {name!r} is already registered")
        self._checks[name] = Check(
            name=name,
            function=check,
            timeout=self._default_timeout if timeout is None else timeout,
            critical=critical,
            probes=frozenset(probes),
        )

    def add_listener(self, listener: ReadinessListener) -> None:
        """Call ``listener(False)`` the moment draining starts (e.g. gRPC health)."""
        self._listeners.append(listener)

    # State --------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started

    @property
    def draining(self) -> bool:
        return self._draining

    def mark_started(self) -> None:
        """Startup work (migrations, warm-up) is done; /startupz may pass from now on."""
        self._started = True

    def start_draining(self) -> None:
        """Readiness is false from now on, whatever the checks say."""
        if self._draining:
            return
        self._draining = True
        for listener in self._listeners:
            listener(False)

    # Probes -------------------------------------------------------------------------------

    async def liveness(self) -> HealthReport:
        """The process answers (this coroutine ran) and every liveness check passes."""
        return await self._report("liveness", reasons=())

    async def readiness(self) -> HealthReport:
        """Started, not draining, and every critical readiness check passes."""
        reasons = []
        if not self._started:
            reasons.append("not started")
        if self._draining:
            reasons.append("draining")
        return await self._report("readiness", reasons=tuple(reasons))

    async def startup(self) -> HealthReport:
        """`mark_started` was called and every startup check passes."""
        return await self._report("startup", reasons=() if self._started else ("not started",))

    async def _report(self, probe: Probe, *, reasons: tuple[str, ...]) -> HealthReport:
        checks = [check for check in self._checks.values() if probe in check.probes]
        results = tuple(await asyncio.gather(*(self._result(check) for check in checks)))
        failed = tuple(
            f"check {result.name} {result.state.value}"
            for result in results
            if result.critical and result.state is not CheckState.OK
        )
        return HealthReport(
            probe=probe, ok=not reasons and not failed, checks=results, reasons=reasons + failed
        )

    async def _result(self, check: Check) -> CheckResult:
        cached = self._cache.get(check.name)
        if cached is not None and self._clock() - cached.at < self._cache_seconds:
            return cached.result
        # Probes arriving together share one run of the check.
        running = self._running.get(check.name)
        if running is None:
            running = asyncio.ensure_future(self._run(check))
            self._running[check.name] = running
            running.add_done_callback(lambda _: self._running.pop(check.name, None))
        return await asyncio.shield(running)

    async def _run(self, check: Check) -> CheckResult:
        started = self._clock()
        try:
            async with asyncio.timeout(check.timeout):
                await check.function()
        except TimeoutError:
            result = self._make(
                check, CheckState.TIMEOUT, started, f"no answer in {check.timeout}s"
            )
        except Exception as error:
            # Driver errors quote connection strings; the body is served to anyone who asks.
            message = _REDACTOR.text(f"{type(error).__name__}: {error}")
            result = self._make(check, CheckState.FAIL, started, message)
        else:
            result = self._make(check, CheckState.OK, started, None)
        self._cache[check.name] = _Cached(result=result, at=self._clock())
        return result

    def _make(
        self, check: Check, state: CheckState, started: float, error: str | None
    ) -> CheckResult:
        return CheckResult(
            name=check.name,
            state=state,
            critical=check.critical,
            duration_seconds=self._clock() - started,
            error=error,
        )
