"""The floor benchmark refuses to start while something answers on the services' ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from threadline_benchmarks.load.floor import PortsBusyError, run_floor
from threadline_benchmarks.load.steps import BenchSettings


def test_a_running_service_on_its_port_stops_the_floor_before_anything_starts(
    tmp_path: Path,
) -> None:
    # A listener where the user API would be: the CPU accounting would count it as the floor.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = BenchSettings(
            doc=tmp_path / "floor.md",
            out_dir=tmp_path,
            host=f"http://127.0.0.1:{port}",
            grpc_target="127.0.0.1:1",  # nothing listens on port 1
        )

        with pytest.raises(PortsBusyError, match=rf"port\(s\) {port} already answer.*make down"):
            run_floor(settings)

    assert not (tmp_path / "floor.md").exists()
