"""The steady-state, guard and recovery probes against a stand-in Prometheus over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from threadline_chaos import probes
from threadline_chaos.prometheus import PrometheusError, parse_vector

from .conftest import FakePrometheus

GUARD = "min_over_time(error_ratio[30s:5s]) > 0.5"


def test_guard_is_clear_while_its_expression_selects_nothing(
    prometheus: FakePrometheus, run_directory: Path
) -> None:
    config = {"prometheus_url": prometheus.url}
    assert probes.guard_clear(name="errors", expression=GUARD, configuration=config) is True
    assert prometheus.queries == [GUARD]
    assert not (run_directory / "guard-tripped.json").exists()


def test_guard_trips_on_any_sample_and_records_why(
    prometheus: FakePrometheus, run_directory: Path
) -> None:
    prometheus.vector(0.73)
    config = {"prometheus_url": prometheus.url}
    assert probes.guard_clear(name="errors", expression=GUARD, configuration=config) is False
    trip = json.loads((run_directory / "guard-tripped.json").read_text())
    assert trip["guard"] == "errors"
    assert trip["expression"] == GUARD
    assert trip["samples"][0]["value"] == pytest.approx(0.73)


def test_a_guard_that_cannot_be_evaluated_trips(
    prometheus: FakePrometheus, run_directory: Path
) -> None:
    prometheus.status = 400
    prometheus.answer = {"status": "error", "error": "parse error at char 3"}
    config = {"prometheus_url": prometheus.url}
    assert probes.guard_clear(name="errors", expression="((", configuration=config) is False
    assert "parse error" in json.loads((run_directory / "guard-tripped.json").read_text())["error"]


def test_a_guard_trips_when_prometheus_does_not_answer(run_directory: Path) -> None:
    config = {"prometheus_url": "http://127.0.0.1:9"}
    assert probes.guard_clear(name="errors", expression=GUARD, configuration=config) is False


def test_sli_probe_queries_the_rule_expression_over_the_short_window(
    prometheus: FakePrometheus,
) -> None:
    prometheus.vector(0.002)
    ratio = probes.sli_error_ratio(
        service="order", slo="availability", configuration={"prometheus_url": prometheus.url}
    )
    assert ratio == pytest.approx(0.002)
    assert "grpc_server_handling_seconds_count" in prometheus.queries[0]
    assert "[30s]" in prometheus.queries[0]
    assert "[5m]" not in prometheus.queries[0]


def test_sli_probe_fails_without_traffic_rather_than_reporting_zero(
    prometheus: FakePrometheus,
) -> None:
    prometheus.vector(float("nan"))
    with pytest.raises(ActivityFailed, match="no user traffic"):
        probes.sli_error_ratio(
            service="user", slo="availability", configuration={"prometheus_url": prometheus.url}
        )


def test_recovery_reports_the_time_until_every_sli_is_within_bound(
    prometheus: FakePrometheus, run_directory: Path
) -> None:
    prometheus.vector(0.0)
    checks = [{"service": "user", "slo": "availability", "max_ratio": 0.0144}]
    result = probes.await_recovery(
        checks=checks, bound_seconds=5, configuration={"prometheus_url": prometheus.url}
    )
    assert result["recovered"] is True
    assert result["seconds"] < 1
    assert json.loads((run_directory / "recovery.json").read_text())["recovered"] is True


def test_recovery_gives_up_at_its_bound(
    prometheus: FakePrometheus, run_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probes, "RECOVERY_POLL_SECONDS", 0.1)
    prometheus.vector(0.5)
    checks = [{"service": "order", "slo": "availability", "max_ratio": 0.0144}]
    result = probes.await_recovery(
        checks=checks, bound_seconds=0.5, configuration={"prometheus_url": prometheus.url}
    )
    assert result == {
        "recovered": False,
        "seconds": None,
        "bound_seconds": 0.5,
        "last": {"order/availability": 0.5},
    }


def test_prometheus_answers_are_parsed_or_refused() -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [0, "2"]}}
    assert parse_vector(scalar)[0].value == 2.0
    with pytest.raises(PrometheusError, match="bad_data"):
        parse_vector({"status": "error", "error": "bad_data"})
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    with pytest.raises(PrometheusError, match="instant vector"):
        parse_vector(matrix)
