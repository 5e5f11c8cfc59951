"""Bad input ends in one line that says what to do and exit status 2, before anything runs."""

from __future__ import annotations

import pytest

from threadline_chaos import cli, preflight
from threadline_chaos.catalogue import Drill, DrillError, find, validate


def test_listing_shows_every_drill_with_its_hypothesis(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "kill-order" in out
    assert find("kill-order").hypothesis in out


def test_an_unknown_drill_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "kill-everything"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("chaos: unknown drill 'kill-everything'; `make chaos` lists them")
    assert "\n" not in error


def test_a_stack_that_is_not_up_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) has no listener here: the readiness check meets a refused connection.
    monkeypatch.setattr(preflight, "REQUIRED", {"user service": "http://127.0.0.1:9/readyz"})
    assert cli.main(["run", "kill-order"]) == 2
    assert capsys.readouterr().err.strip() == (
        "chaos: the stack is not up (user service not ready): run `make up`"
    )


def test_an_experiment_that_does_not_validate_is_refused() -> None:
    drill = find("kill-order")
    untitled = {key: value for key, value in drill.experiment.items() if key != "title"}
    broken = Drill(name="broken", path=drill.path, experiment=untitled)
    with pytest.raises(DrillError, match="does not validate"):
        validate(broken)


def test_a_fault_target_the_stack_lacks_is_named() -> None:
    experiment = {
        "method": [
            {
                "type": "action",
                "name": "kill",
                "provider": {
                    "type": "python",
                    "module": "threadline_chaos.process_faults",
                    "func": "signal_component",
                    "arguments": {"component": "mongodb"},
                },
            }
        ]
    }
    assert preflight.fault_target_problems(experiment) == [
        "'mongodb' is not a component a drill may break "
        "(user, order, order-relay, user-consumer, postgres, redis, kafka, otel-collector)"
    ]


def test_a_game_day_with_too_many_faults_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gameday", "--seed", "1", "--faults", "99"]) == 2
    assert "faults must be" in capsys.readouterr().err
