"""Fault flags: injected errors and latency per route or RPC, each with a TTL it cannot outlive.

A flag names a target (``"GET /v1/users/{user_id}"``: method and route template;
``"/order.v1.OrderService/CreateOrder"``: a gRPC full method; ``"*"``: every route and RPC of
the process), an error ratio (0..1) and an added latency. The HTTP middleware
(`observability.faults_asgi`) and the gRPC interceptor (`observability.grpc.faults`) ask
`FaultRegistry.injection` on each request; with no flag set that is one truth test.

A flag always has a TTL, capped at `MAX_TTL_SECONDS`, so none can stay on: a timer removes it
when the TTL runs out (no request needed), and a flag past its deadline is never applied even
if the timer is late. One flag per target: setting a target again replaces its flag.
Every change is an audit line (`observability.changes`). Off by default in production
(`ObservabilitySettings.faults_enabled`).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace

from observability.changes import Actor, log_change

if TYPE_CHECKING:
    from observability.metrics import Metrics

__all__ = [
    "ALL_TARGETS",
    "MAX_TTL_SECONDS",
    "Fault",
    "FaultInjectionDisabledError",
    "FaultRegistry",
    "Injection",
    "InvalidFaultError",
    "validate_target",
]

#: The target meaning every route and RPC of the process.
ALL_TARGETS: Final = "*"
#: The longest a flag may live: a drill that forgets its rollback is over in 15 minutes.
MAX_TTL_SECONDS: Final = 900
_HTTP_TARGET = re.compile(r"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /[!-~]*")
# Starlette's convertor suffix in a template: "{user_id:uuid}" names the same route as "{user_id}".
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_GRPC_TARGET = re.compile(r"/[A-Za-z_][\w.]*/[A-Za-z_]\w*")
_MAX_TARGET_LENGTH = 200
_MAX_LATENCY_MS = 60_000


class InvalidFaultError(ValueError):
    """A flag's field is out of bounds; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


class FaultInjectionDisabledError(RuntimeError):
    """Fault injection is off in this process (production without the explicit setting)."""


def route_key(template: str) -> str:
    """A template without convertors: ``/v1/users/{user_id:uuid}`` -> ``/v1/users/{user_id}``."""
    return _CONVERTOR.sub(r"{\1}", template)


def validate_target(target: str) -> str:
    """``target`` when it is ``*``, ``METHOD /route/template`` or ``/package.Service/Method``.

    Convertors in a template are dropped (`route_key`): the flag names the route either way.
    """
    target = route_key(target)
    if len(target) > _MAX_TARGET_LENGTH:
        raise InvalidFaultError("target", f"longer than {_MAX_TARGET_LENGTH} characters")
    if target == ALL_TARGETS or _HTTP_TARGET.fullmatch(target) or _GRPC_TARGET.fullmatch(target):
        return target
    raise InvalidFaultError(
        "target",
        'expected "*", an HTTP "METHOD /route/template" or a gRPC "/package.Service/Method"',
    )


@dataclass(frozen=True, slots=True)
class Fault:
    """One flag, as the admin API shows it (`as_dict`)."""

    id: str
    target: str
    error_ratio: float
    latency_ms: int
    ttl_seconds: int
    set_at: datetime
    expires_at: datetime
    actor: str
    # On the registry's monotonic clock: wall-clock jumps neither extend nor cut a flag's life.
    deadline: float = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "error_ratio": self.error_ratio,
            "latency_ms": self.latency_ms,
            "ttl_seconds": self.ttl_seconds,
            "expires_at": self.expires_at.isoformat(timespec="milliseconds"),
            "actor": self.actor,
            "set_at": self.set_at.isoformat(timespec="milliseconds"),
        }

    def describe(self) -> str:
        """For the audit line: what the flag does, in one short string."""
        return (
            f"error_ratio={self.error_ratio} latency_ms={self.latency_ms} "
            f"ttl_seconds={self.ttl_seconds} id={self.id}"
        )


@dataclass(frozen=True, slots=True)
class Injection:
    """What to do to one request: wait ``delay_seconds``, then fail it or let it through."""

    fault: Fault
    delay_seconds: float
    fail: bool


class FaultRegistry:
    """The process's fault flags; `injection` decides per request, timers expire flags."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        disabled_reason: str = "fault injection is off",
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        chance: Callable[[], float] = random.random,
        max_ttl_seconds: int = MAX_TTL_SECONDS,
    ) -> None:
        self.enabled = enabled
        self.disabled_reason = disabled_reason
        self.max_ttl_seconds = max_ttl_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._chance = chance
        self._faults: dict[str, Fault] = {}  # by target
        self._timers: dict[str, asyncio.TimerHandle] = {}  # by fault id
        self._injections = None
        if metrics is not None:
            self._injections = metrics.counter(
                "fault_injections",
                "Requests and RPCs a fault flag acted on, by the flag's target and the kind of "
                "fault (error, latency).",
                ("target", "kind"),
            )
            active = metrics.gauge("fault_flags_active", "Fault flags set and not yet expired.")
            active.set_function(self._count_live)

    # Changes -------------------------------------------------------------------------------

    def set(
        self, *, target: str, error_ratio: float, latency_ms: int, ttl_seconds: int, actor: Actor
    ) -> Fault:
        """Set (or replace) the flag of ``target``; it is removed after ``ttl_seconds``."""
        if not self.enabled:
            raise FaultInjectionDisabledError(self.disabled_reason)
        target = validate_target(target)
        if not 0.0 <= error_ratio <= 1.0:
            raise InvalidFaultError("error_ratio", "must be a number from 0 to 1")
        if not 0 <= latency_ms <= _MAX_LATENCY_MS:
            raise InvalidFaultError("latency_ms", f"must be an integer from 0 to {_MAX_LATENCY_MS}")
        if not 1 <= ttl_seconds <= self.max_ttl_seconds:
            raise InvalidFaultError(
                "ttl_seconds", f"must be an integer from 1 to {self.max_ttl_seconds}"
            )
        self.expire()
        now = self._wall_clock()
        fault = Fault(
            id=uuid.uuid4().hex[:12],
            target=target,
            error_ratio=float(error_ratio),
            latency_ms=latency_ms,
            ttl_seconds=ttl_seconds,
            set_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            actor=actor.name,
            deadline=self._clock() + ttl_seconds,
        )
        previous = self._faults.get(target)
        if previous is not None:
            self._cancel_timer(previous.id)
        self._faults[target] = fault
        self._start_timer(fault)
        log_change(
            "fault flag set",
            actor=actor,
            what=f"fault {target}",
            old=previous.describe() if previous else "off",
            new=fault.describe(),
        )
        return fault

    def remove(self, fault_id: str, *, actor: Actor) -> Fault | None:
        """Remove one flag by id; None when no live flag has it."""
        self.expire()
        for fault in list(self._faults.values()):
            if fault.id == fault_id:
                self._drop(fault, actor=actor, message="fault flag removed")
                return fault
        return None

    def clear(self, *, actor: Actor) -> list[Fault]:
        """Remove every flag; return those that were live."""
        self.expire()
        cleared = list(self._faults.values())
        for fault in cleared:
            self._drop(fault, actor=actor, message="fault flag removed")
        return cleared

    def expire(self) -> list[Fault]:
        """Remove the flags whose TTL has run out (timers call this; so does every change)."""
        now = self._clock()
        expired = [fault for fault in self._faults.values() if fault.deadline <= now]
        for fault in expired:
            self._drop(fault, actor=Actor.system(), message="fault flag expired")
        return expired

    # Reads ---------------------------------------------------------------------------------

    @property
    def any_set(self) -> bool:
        """Whether any flag is held (expired or not): False is the fast path of every request."""
        return bool(self._faults)

    def active(self) -> list[Fault]:
        """The live flags, oldest first."""
        self.expire()
        return sorted(self._faults.values(), key=lambda fault: fault.deadline - fault.ttl_seconds)

    def injection(self, target: str) -> Injection | None:
        """What the flag of ``target`` (or of ``*``) does to this request, if any flag is live.

        Counts the injection and marks the current span (event ``fault.injected``), so the
        request's trace shows that its latency or its error was made on purpose.
        """
        if not self._faults:
            return None
        fault = self._faults.get(target) or self._faults.get(ALL_TARGETS)
        if fault is None or fault.deadline <= self._clock():
            return None
        fail = fault.error_ratio > 0 and self._chance() < fault.error_ratio
        if not fail and fault.latency_ms == 0:
            return None
        injection = Injection(fault=fault, delay_seconds=fault.latency_ms / 1000, fail=fail)
        self._record(injection)
        return injection

    # Internals -----------------------------------------------------------------------------

    def _count_live(self) -> float:
        now = self._clock()
        return sum(1 for fault in list(self._faults.values()) if fault.deadline > now)

    def _record(self, injection: Injection) -> None:
        fault = injection.fault
        kinds = [
            kind
            for kind, on in (("latency", fault.latency_ms > 0), ("error", injection.fail))
            if on
        ]
        if self._injections is not None:
            for kind in kinds:
                self._injections.labels(fault.target, kind).inc()
        span = trace.get_current_span()
        if span.is_recording():
            attributes: dict[str, str | int | bool] = {
                "fault.id": fault.id,
                "fault.target": fault.target,
                "fault.kind": ",".join(kinds),
                "fault.latency_ms": fault.latency_ms,
                "fault.error": injection.fail,
            }
            span.set_attribute("fault.injected", True)
            span.add_event("fault.injected", attributes)

    def _drop(self, fault: Fault, *, actor: Actor, message: str) -> None:
        if self._faults.get(fault.target) is fault:
            del self._faults[fault.target]
        self._cancel_timer(fault.id)
        log_change(
            message, actor=actor, what=f"fault {fault.target}", old=fault.describe(), new="off"
        )

    def _start_timer(self, fault: Fault) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a unit test on a fake clock): expiry happens on the next read
        # A hair past the deadline, so the timer never fires just before it and finds nothing.
        delay = max(fault.deadline - self._clock(), 0.0) + 0.001
        self._timers[fault.id] = loop.call_later(delay, self.expire)

    def _cancel_timer(self, fault_id: str) -> None:
        timer = self._timers.pop(fault_id, None)
        if timer is not None:
            timer.cancel()
