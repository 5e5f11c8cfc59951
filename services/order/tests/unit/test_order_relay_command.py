"""`order-service relay` runs the relay's own composition root, on the relay's admin port."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest

from order_service import cli, relay_main
from order_service.settings import Settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Settings]]:
    """What each command handed to the event loop: (which runner, its settings)."""
    calls: list[tuple[str, Settings]] = []

    async def run_relay(settings: Settings) -> None:
        calls.append(("relay", settings))

    async def serve(settings: Settings) -> None:
        calls.append(("serve", settings))

    def run(coroutine: Coroutine[Any, Any, None]) -> None:
        # Drive the stand-in to completion without an event loop: it never awaits.
        with pytest.raises(StopIteration):
            coroutine.send(None)

    monkeypatch.setattr(relay_main, "run_relay", run_relay)
    monkeypatch.setattr("order_service.main.serve", serve)
    monkeypatch.setattr("uvloop.run", run)
    return calls


def test_relay_command_runs_only_the_relay(started: list[tuple[str, Settings]]) -> None:
    assert cli.main(["relay"]) == 0
    assert [name for name, _ in started] == ["relay"]


def test_serve_is_still_the_default_command(started: list[tuple[str, Settings]]) -> None:
    assert cli.main([]) == 0
    assert [name for name, _ in started] == ["serve"]


def test_relay_command_reads_the_relay_settings_from_the_environment(
    started: list[tuple[str, Settings]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDER_RELAY_ADMIN_PORT", "19103")
    monkeypatch.setenv("ORDER_RELAY_BATCH_SIZE", "42")
    cli.main(["relay"])
    [(_, settings)] = started
    assert settings.relay_admin_port == 19103
    assert settings.relay_batch_size == 42


def test_the_relay_process_serves_its_admin_port_not_the_services() -> None:
    settings = relay_main.relay_settings(Settings(admin_port=9102))
    assert settings.admin_port == 9103
    assert settings.service_name == "order"


def test_an_unknown_command_is_refused_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["relays"])
    assert exited.value.code == 2
    assert "invalid choice: 'relays'" in capsys.readouterr().err
