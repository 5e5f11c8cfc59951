"""Runtime controls: SIGHUP re-reads the settings (env file over environment), applies the log
level and sampling ratio that changed, keeps the old values when the new ones are invalid."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict

from observability.changes import Actor
from observability.health import HealthRegistry
from observability.lifecycle import ShutdownCoordinator
from observability.runtime_controls import InvalidControlError, RuntimeControls
from observability.sampling import AdjustableRatioSampler
from observability.settings import ObservabilitySettings


class FileSettings(ObservabilitySettings):
    model_config = SettingsConfigDict(env_prefix="RTC_", extra="ignore", frozen=True)


@pytest.fixture(autouse=True)
def _restore_log_levels() -> Iterator[None]:
    loggers = [logging.getLogger(), logging.getLogger("observability")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "service.env"
    path.write_text("RTC_LOG_LEVEL=INFO\nOTEL_TRACES_SAMPLER_ARG=0.5\n")
    monkeypatch.setenv("RTC_ENV_FILE", str(path))
    # The file wins over the environment: a running process's environment cannot be edited.
    monkeypatch.setenv("RTC_LOG_LEVEL", "ERROR")
    return path


def _controls() -> tuple[RuntimeControls, AdjustableRatioSampler]:
    settings = FileSettings()
    logging.getLogger().setLevel(settings.log_level)
    ratio = AdjustableRatioSampler(settings.traces_sampler_ratio)
    return RuntimeControls(settings=settings, ratio_sampler=ratio), ratio


def test_the_env_file_wins_over_the_environment(env_file: Path) -> None:
    settings = FileSettings()
    assert (settings.log_level, settings.traces_sampler_ratio) == ("INFO", 0.5)
    assert settings.env_file == env_file


def test_a_missing_env_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTC_ENV_FILE", str(tmp_path / "absent.env"))
    with pytest.raises(ValueError, match="not a readable file"):
        FileSettings()


def test_reload_applies_the_changed_values_and_logs_old_and_new(
    env_file: Path, json_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    controls, ratio = _controls()
    env_file.write_text("RTC_LOG_LEVEL=DEBUG\nOTEL_TRACES_SAMPLER_ARG=0.0\n")

    assert controls.reload()

    assert controls.log_level == "DEBUG"
    assert logging.getLogger("observability").level == logging.DEBUG
    assert ratio.ratio == 0.0
    changes = {
        line["change.what"]: (line["change.old"], line["change.new"], line["change.actor"])
        for line in json_logs()
        if line["logger"] == "observability.changes"
    }
    assert changes == {
        "log_level": ("INFO", "DEBUG", "SIGHUP"),
        "traces_sampler_ratio": (0.5, 0.0, "SIGHUP"),
    }


@pytest.mark.parametrize(
    "content",
    ["RTC_LOG_LEVEL=LOUD\nOTEL_TRACES_SAMPLER_ARG=0.1\n", "OTEL_TRACES_SAMPLER_ARG=7\n"],
)
def test_reload_with_an_invalid_value_keeps_every_old_value_and_says_why(
    env_file: Path, json_logs: Callable[[], list[dict[str, Any]]], content: str
) -> None:
    controls, ratio = _controls()
    env_file.write_text(content)

    assert not controls.reload()

    assert (controls.log_level, ratio.ratio) == ("INFO", 0.5)
    errors = [line for line in json_logs() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "old value is kept" in errors[0]["message"]
    assert any(
        name in " ".join(errors[0]["reload.errors"])
        for name in ("RTC_LOG_LEVEL", "OTEL_TRACES_SAMPLER_ARG")
    )


def test_reload_names_restart_only_settings_without_their_values(
    env_file: Path, json_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    controls, _ = _controls()
    env_file.write_text(env_file.read_text() + "RTC_ADMIN_TOKEN=new-secret-token\n")

    assert controls.reload()

    warnings = [line for line in json_logs() if "only on restart" in line["message"]]
    assert warnings[0]["reload.restart_required"] == ["RTC_ADMIN_TOKEN"]
    assert "new-secret-token" not in str(json_logs())


def test_set_log_level_refuses_an_unknown_level() -> None:
    controls, _ = _controls()
    with pytest.raises(InvalidControlError, match="level: expected one of DEBUG"):
        controls.set_log_level("VERBOSE", actor=Actor("t", "127.0.0.1"))


async def test_sighup_runs_the_reload_steps_and_leaves_the_process_running() -> None:
    coordinator = ShutdownCoordinator(HealthRegistry())
    reloaded = asyncio.Event()
    coordinator.on_reload("broken", lambda: 1 / 0)  # a failing step does not stop the next
    coordinator.on_reload("settings", reloaded.set)
    coordinator.install_signal_handlers()
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.wait_for(reloaded.wait(), timeout=5)
    finally:
        coordinator.remove_signal_handlers()
    assert not coordinator.shutdown_requested
