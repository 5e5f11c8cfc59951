"""How a run is started: Locust's command line, durations, shapes, CPU confinement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from threadline_loadtests.runner import LOCUSTFILE, SHAPES, RunPlan, locust_command, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("2m5s", 125)]
)
def test_parses_locust_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "1d"])
def test_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_a_headless_run_writes_every_report_into_its_directory(tmp_path: Path) -> None:
    command = locust_command(RunPlan(out_dir=tmp_path, users=7, run_time="30s", user_rps=3))

    assert command[:3] == [sys.executable, "-m", "locust"]
    assert option(command, "-f") == str(LOCUSTFILE)
    assert option(command, "--csv") == str(tmp_path / "locust")
    assert option(command, "--html") == str(tmp_path / "report.html")
    assert option(command, "--summary-file") == str(tmp_path / "summary.json")
    assert option(command, "--failures-file") == str(tmp_path / "failures.jsonl")
    assert (option(command, "--users"), option(command, "--user-rps")) == ("7", "3")
    assert {"--headless", "--csv-full-history"} <= set(command)
    assert "--reset-stats" not in command


def test_a_shape_is_added_as_a_second_locustfile_and_cpus_confine_the_process(
    tmp_path: Path,
) -> None:
    command = locust_command(
        RunPlan(out_dir=tmp_path, shape="spike", cpus="1", measure_after_spawn=True)
    )

    assert command[:3] == ["taskset", "-c", "1"]
    assert option(command, "-f") == f"{LOCUSTFILE},{SHAPES['spike']}"
    assert "--reset-stats" in command


def test_every_shape_file_exists_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    assert all(path.exists() for path in SHAPES.values())
    with pytest.raises(ValueError, match="unknown shape 'wave'"):
        locust_command(RunPlan(out_dir=tmp_path, shape="wave"))


def test_the_ui_listens_on_loopback_and_does_not_start_by_itself(tmp_path: Path) -> None:
    command = locust_command(RunPlan(out_dir=tmp_path, headless=False))

    assert (option(command, "--web-host"), option(command, "--web-port")) == ("127.0.0.1", "8089")
    assert "--headless" not in command


def test_the_driver_side_never_imports_locust() -> None:
    # Locust patches the standard library for gevent on import: the CLI and the report (and
    # pytest, which imports them) must stay out of it; the benchmark's own test checks its side.
    probe = (
        "import sys, threadline_loadtests.cli;"
        "import threadline_loadtests.report;"
        "sys.exit('locust' in sys.modules or 'gevent' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False, timeout=60).returncode == 0
