"""The plugin finds its data-store provider through an entry point, and copes without one."""

from __future__ import annotations

import socket
from importlib.metadata import EntryPoint

import pytest

from threadline_testing import data_stores
from threadline_testing.data_stores import RunningOnly, load_data_stores


def test_the_native_stack_is_the_installed_provider() -> None:
    provider = load_data_stores()
    assert type(provider).__module__ == "threadline_native.data_stores"
    assert hasattr(provider, "ensure")
    assert hasattr(provider, "stop_started")


def test_without_a_provider_the_session_only_reuses_running_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data_stores, "entry_points", lambda group: [])
    assert isinstance(load_data_stores(), RunningOnly)


def test_running_only_accepts_a_server_that_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setitem(data_stores.STANDARD_PORTS, "redis", listener.getsockname()[1])
        RunningOnly().ensure("redis")


def test_running_only_says_how_to_start_a_server_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(data_stores.STANDARD_PORTS, "kafka", closed_port)
    with pytest.raises(RuntimeError, match=r"kafka does not answer .* run `make up`"):
        RunningOnly().ensure("kafka")


def test_the_first_provider_by_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [
        EntryPoint(
            "zeta", "threadline_testing.data_stores:RunningOnly", data_stores.ENTRY_POINT_GROUP
        ),
        EntryPoint(
            "alpha", "threadline_native.data_stores:NativeDataStores", data_stores.ENTRY_POINT_GROUP
        ),
    ]
    monkeypatch.setattr(data_stores, "entry_points", lambda group: points)
    assert type(load_data_stores()).__name__ == "NativeDataStores"
