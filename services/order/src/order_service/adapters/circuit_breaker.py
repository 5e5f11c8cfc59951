"""A circuit breaker: after repeated failures, fail fast for a while instead of waiting.

closed     calls go through; ``failure_threshold`` failures in a row open the circuit.
open       calls are refused at once for ``reset_seconds``.
half_open  one trial call goes through (the others are refused); its success closes the
           circuit, its failure opens it again for another ``reset_seconds``.

Its state is the gauge ``circuit_breaker_state{breaker}`` (0 closed, 1 half-open, 2 open) and
every change counts in ``circuit_breaker_transitions_total{breaker,state}``.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Protocol

_log = logging.getLogger(__name__)


class BreakerState(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class BreakerObserver(Protocol):
    def on_state(self, name: str, state: BreakerState) -> None: ...


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        reset_seconds: float,
        observer: BreakerObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._failure_threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._observer = observer
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False
        if observer is not None:
            observer.on_state(name, self._state)

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.retry_after_seconds == 0:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def retry_after_seconds(self) -> float:
        """How long an open circuit keeps refusing calls (0 when it is not open)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(self._opened_at + self._reset_seconds - self._clock(), 0.0)

    def allow(self) -> bool:
        """May a call go through now? In half-open, only one trial call at a time."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if self.retry_after_seconds > 0:
                return False
            self._move(BreakerState.HALF_OPEN)
        if self._trial_running:
            return False
        self._trial_running = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._trial_running = False
        if self._state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._trial_running = False
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or (
            self._state is BreakerState.CLOSED and self._failures >= self._failure_threshold
        ):
            self._opened_at = self._clock()
            self._move(BreakerState.OPEN)

    def record_neutral(self) -> None:
        """A call ended in a way that says nothing about the dependency's health (e.g. the
        caller's deadline ran out first); a half-open trial slot is given back."""
        self._trial_running = False

    def _move(self, state: BreakerState) -> None:
        if state is self._state:
            return
        _log.warning(
            "circuit breaker changed state",
            extra={"breaker": self.name, "from": self._state.name, "to": state.name},
        )
        self._state = state
        if self._observer is not None:
            self._observer.on_state(self.name, state)
