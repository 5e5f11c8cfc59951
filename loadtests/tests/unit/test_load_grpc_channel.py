"""The shoppers' channel: after an outage it finds the order service back within a second."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from threadline_loadtests import grpc_channel


def test_a_shopper_channel_caps_grpcs_reconnect_back_off_at_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[tuple[str, dict[str, Any]]] = []
    real = grpc.insecure_channel

    def insecure_channel(target: str, options: Any = ()) -> grpc.Channel:
        opened.append((target, dict(options)))
        return real(target, options=options)

    monkeypatch.setattr(grpc, "insecure_channel", insecure_channel)

    grpc_channel.open_channel("127.0.0.1:9").close()

    [(target, options)] = opened
    assert target == "127.0.0.1:9"
    # gRPC's own default grows to 120 s: a shopper would fail calls long after a restart.
    assert options["grpc.max_reconnect_backoff_ms"] == 1000
