"""The fault registry on a fake clock: bounds, one flag per target, expiry, decisions, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from observability.changes import Actor
from observability.faults import (
    MAX_TTL_SECONDS,
    FaultInjectionDisabledError,
    FaultRegistry,
    InvalidFaultError,
    validate_target,
)
from observability.metrics import Metrics

OPERATOR = Actor(name="drill", peer="127.0.0.1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _registry(clock: FakeClock, *, chance: float = 0.5, **options: Any) -> FaultRegistry:
    return FaultRegistry(
        clock=clock,
        wall_clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        chance=lambda: chance,
        **options,
    )


def _set(registry: FaultRegistry, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "target": "GET /v1/users/{user_id}",
        "error_ratio": 1.0,
        "latency_ms": 0,
        "ttl_seconds": 30,
        "actor": OPERATOR,
    }
    values.update(overrides)
    return registry.set(**values)


@pytest.mark.parametrize(
    "target",
    ["*", "GET /v1/users/{user_id}", "POST /v1/users", "/order.v1.OrderService/CreateOrder"],
)
def test_targets_of_each_form_are_accepted(target: str) -> None:
    assert validate_target(target) == target


@pytest.mark.parametrize(
    "target",
    ["", "**", "GET", "get /v1/users", "GET v1/users", "FETCH /x", "order.v1.Order/Create",
     "/a/b/c", "GET /a b", "x" * 300],
)  # fmt: skip
def test_malformed_targets_are_refused_naming_the_field(target: str) -> None:
    with pytest.raises(InvalidFaultError) as refused:
        validate_target(target)
    assert refused.value.field == "target"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("error_ratio", -0.1),
        ("error_ratio", 1.01),
        ("latency_ms", -1),
        ("ttl_seconds", 0),
        ("ttl_seconds", MAX_TTL_SECONDS + 1),
    ],
)
def test_values_out_of_bounds_are_refused_and_nothing_is_set(field: str, value: Any) -> None:
    registry = _registry(FakeClock())
    with pytest.raises(InvalidFaultError) as refused:
        _set(registry, **{field: value})
    assert refused.value.field == field
    assert registry.active() == []


def test_a_flag_applies_until_its_ttl_and_is_gone_after() -> None:
    clock = FakeClock()
    registry = _registry(clock)
    fault = _set(registry, ttl_seconds=10)

    clock.now += 9.9
    assert registry.injection("GET /v1/users/{user_id}") is not None
    clock.now += 0.1
    assert registry.injection("GET /v1/users/{user_id}") is None
    assert registry.active() == []
    assert fault.as_dict()["expires_at"] == "2026-01-01T00:00:10.000+00:00"


def test_setting_a_target_again_replaces_its_flag() -> None:
    registry = _registry(FakeClock())
    first = _set(registry, error_ratio=1.0)
    second = _set(registry, error_ratio=0.0, latency_ms=50)

    assert [fault.id for fault in registry.active()] == [second.id]
    assert registry.remove(first.id, actor=OPERATOR) is None


def test_star_applies_to_every_target_and_an_exact_flag_wins() -> None:
    registry = _registry(FakeClock())
    _set(registry, target="*", error_ratio=0.0, latency_ms=100)
    _set(registry, target="/order.v1.OrderService/CreateOrder", error_ratio=1.0)

    anything = registry.injection("POST /v1/users")
    exact = registry.injection("/order.v1.OrderService/CreateOrder")

    assert anything is not None
    assert (anything.delay_seconds, anything.fail) == (0.1, False)
    assert exact is not None
    assert (exact.delay_seconds, exact.fail) == (0.0, True)


@pytest.mark.parametrize(("chance", "fails"), [(0.29, True), (0.3, False), (0.99, False)])
def test_a_request_fails_when_the_draw_is_under_the_ratio(chance: float, fails: bool) -> None:
    registry = _registry(FakeClock(), chance=chance)
    _set(registry, error_ratio=0.3, latency_ms=5)

    injection = registry.injection("GET /v1/users/{user_id}")

    assert injection is not None
    assert injection.fail is fails


def test_other_targets_and_a_ratio_of_zero_without_latency_are_untouched() -> None:
    registry = _registry(FakeClock(), chance=0.0)
    _set(registry, error_ratio=0.0, latency_ms=0)

    assert registry.injection("GET /v1/users/{user_id}") is None
    assert registry.injection("GET /v1/users") is None


def test_clear_and_remove_say_what_was_live() -> None:
    clock = FakeClock()
    registry = _registry(clock)
    kept = _set(registry, target="GET /a")
    _set(registry, target="GET /b", ttl_seconds=1)
    clock.now += 2  # GET /b has expired: not counted as cleared

    assert registry.remove("no-such-id", actor=OPERATOR) is None
    assert [fault.id for fault in registry.clear(actor=OPERATOR)] == [kept.id]
    assert registry.active() == []


def test_refused_when_fault_injection_is_disabled() -> None:
    registry = _registry(FakeClock(), enabled=False, disabled_reason="off in production")
    with pytest.raises(FaultInjectionDisabledError, match="off in production"):
        _set(registry)


def test_injections_are_counted_by_target_and_kind_and_live_flags_gauged() -> None:
    clock = FakeClock()
    registry_ = CollectorRegistry()
    registry = _registry(clock, chance=0.0, metrics=Metrics(registry_))
    _set(registry, target="*", error_ratio=1.0, latency_ms=20, ttl_seconds=5)

    registry.injection("GET /x")
    registry.injection("GET /y")

    def sample(name: str, **labels: str) -> float | None:
        return registry_.get_sample_value(name, labels)

    assert sample("fault_injections_total", target="*", kind="error") == 2
    assert sample("fault_injections_total", target="*", kind="latency") == 2
    assert sample("fault_flags_active") == 1
    clock.now += 5
    assert sample("fault_flags_active") == 0


def test_every_change_is_an_audit_line_with_actor_peer_and_old_and_new(
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    clock = FakeClock()
    registry = _registry(clock)
    fault = _set(registry, ttl_seconds=1)
    clock.now += 1
    registry.expire()

    changes = [line for line in json_logs() if line["logger"] == "observability.changes"]
    assert [line["message"] for line in changes] == ["fault flag set", "fault flag expired"]
    first, expired = changes
    assert first["level"] == "WARNING"
    assert (first["change.actor"], first["change.peer"]) == ("drill", "127.0.0.1")
    assert first["change.what"] == "fault GET /v1/users/{user_id}"
    assert (first["change.old"], first["change.new"]) == ("off", fault.describe())
    assert (expired["change.actor"], expired["change.new"]) == ("ttl", "off")
    assert first["change.at"].endswith("+00:00")


async def test_a_flag_expires_on_its_timer_without_any_request() -> None:
    import asyncio  # noqa: PLC0415

    registry = FaultRegistry()
    _set(registry, ttl_seconds=1)
    assert registry.any_set

    await asyncio.sleep(1.1)

    assert not registry.any_set


def test_a_template_names_its_route_with_or_without_convertors() -> None:
    registry = _registry(FakeClock())
    fault = _set(registry, target="GET /v1/users/{user_id:uuid}")

    assert validate_target("GET /v1/users/{user_id:uuid}") == "GET /v1/users/{user_id}"
    assert fault.target == "GET /v1/users/{user_id}"
    assert registry.injection("GET /v1/users/{user_id}") is not None
