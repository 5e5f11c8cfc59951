"""The circuit breaker opens after repeated failures, lets one trial through, then closes."""

from __future__ import annotations

from order_service.adapters.circuit_breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.states: list[BreakerState] = []

    def on_state(self, name: str, state: BreakerState) -> None:
        self.states.append(state)


def state_of(subject: CircuitBreaker) -> BreakerState:
    return subject.state


def breaker(clock: Clock, recorder: Recorder | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        "dep", failure_threshold=3, reset_seconds=5, observer=recorder, clock=clock
    )


def test_it_opens_after_the_threshold_and_refuses_until_reset() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(2):
        assert subject.allow()
        subject.record_failure()
    assert state_of(subject) is BreakerState.CLOSED
    assert subject.allow()
    subject.record_failure()
    assert state_of(subject) is BreakerState.OPEN
    assert not subject.allow()
    assert subject.retry_after_seconds == 5
    clock.now += 4.9
    assert not subject.allow()


def test_a_success_resets_the_failure_count() -> None:
    subject = breaker(Clock())
    for _ in range(2):
        subject.record_failure()
    subject.record_success()
    for _ in range(2):
        subject.record_failure()
    assert state_of(subject) is BreakerState.CLOSED


def test_half_open_lets_one_trial_through_and_its_outcome_decides() -> None:
    clock, recorder = Clock(), Recorder()
    subject = breaker(clock, recorder)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    assert subject.allow()  # the trial
    assert not subject.allow()  # everyone else while it runs
    subject.record_failure()
    assert state_of(subject) is BreakerState.OPEN
    clock.now += 5
    assert subject.allow()
    subject.record_success()
    assert state_of(subject) is BreakerState.CLOSED
    assert subject.allow()
    assert recorder.states == [
        BreakerState.CLOSED,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_a_neutral_outcome_gives_the_trial_slot_back() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    assert subject.allow()
    subject.record_neutral()
    assert subject.allow()
