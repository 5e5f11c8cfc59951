"""`user-service consume` runs the consumer's own composition root, on the consumer's admin port."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest

from user_service import cli, consumer_main
from user_service.settings import Settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Settings]]:
    """What each command handed to the event loop: (which runner, its settings)."""
    calls: list[tuple[str, Settings]] = []

    async def run_consumer(settings: Settings) -> None:
        calls.append(("consume", settings))

    async def serve(settings: Settings) -> None:
        calls.append(("serve", settings))

    def run(coroutine: Coroutine[Any, Any, None]) -> None:
        # Drive the stand-in to completion without an event loop: it never awaits.
        with pytest.raises(StopIteration):
            coroutine.send(None)

    monkeypatch.setattr(consumer_main, "run_consumer", run_consumer)
    monkeypatch.setattr("user_service.main.serve", serve)
    monkeypatch.setattr("uvloop.run", run)
    return calls


def test_consume_command_runs_only_the_consumer(started: list[tuple[str, Settings]]) -> None:
    assert cli.main(["consume"]) == 0
    assert [name for name, _ in started] == ["consume"]


def test_serve_is_still_the_default_command(started: list[tuple[str, Settings]]) -> None:
    assert cli.main([]) == 0
    assert [name for name, _ in started] == ["serve"]


def test_consume_command_reads_the_consumer_settings_from_the_environment(
    started: list[tuple[str, Settings]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_ORDERS_CONSUMER_ADMIN_PORT", "19104")
    monkeypatch.setenv("USER_ORDERS_CONSUMER_GROUP", "stats-elsewhere")
    cli.main(["consume"])
    [(_, settings)] = started
    assert settings.orders_consumer_admin_port == 19104
    assert settings.orders_consumer_group == "stats-elsewhere"


def test_the_consumer_process_serves_its_admin_port_not_the_apis() -> None:
    settings = consumer_main.consumer_settings(Settings(admin_port=9101))
    assert settings.admin_port == 9104
    assert settings.service_name == "user"
