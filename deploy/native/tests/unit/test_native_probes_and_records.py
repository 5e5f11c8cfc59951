"""The native tool's building blocks: versions file, pid records, protocol probes, port clashes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_native.component import Context, StackError
from threadline_native.components.redis import Redis
from threadline_native.net import free_port, kafka_api_versions, redis_ping
from threadline_native.process import Launch, PidFile, spawn
from threadline_native.stack import State, ensure_up, status
from threadline_native.versions import load_versions


def test_versions_file_is_parsed_like_an_env_file(tmp_path: Path) -> None:
    path = tmp_path / "versions.env"
    path.write_text('# comment\n\nKAFKA_VERSION=4.1.1\nREDIS_VERSION = "7.0.15"\n')
    assert load_versions(path) == {"KAFKA_VERSION": "4.1.1", "REDIS_VERSION": "7.0.15"}


def test_a_malformed_versions_line_names_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "versions.env"
    path.write_text("KAFKA_VERSION=4.1.1\nnot a setting\n")
    with pytest.raises(ValueError, match=r"versions.env:2"):
        load_versions(path)


def test_a_pid_record_of_a_live_process_is_trusted(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            record = PidFile(tmp_path / "x.pid")
            record.record(child.pid)
            assert record.live_pid() == child.pid
        finally:
            child.kill()


def test_a_killed_server_not_yet_reaped_is_not_live_and_is_reaped(tmp_path: Path) -> None:
    # A chaos drill SIGKILLs a server the test session itself spawned: until reaped it is a
    # zombie with its old start time; restarting must see it stopped, not "starting".
    record = PidFile(tmp_path / "x.pid")
    pid = spawn(
        Launch([sys.executable, "-c", "import time; time.sleep(30)"]),
        log_file=tmp_path / "x.log",
        pid_file=record,
    )
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)

    assert record.live_pid() is None
    assert not record.path.exists()
    assert not Path(f"/proc/{pid}").exists()


def test_a_pid_record_whose_process_was_replaced_is_discarded(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            pid_path = tmp_path / "x.pid"
            # Same pid, different start time: the pid was recycled by another process.
            pid_path.write_text(f"{child.pid} 1\n")
            assert PidFile(pid_path).live_pid() is None
            assert not pid_path.exists()
        finally:
            child.kill()


@pytest.fixture
def foreign_listener() -> Iterator[int]:
    """A port held by something that speaks neither Redis nor Kafka: it closes every connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_protocol_probes_refuse_a_server_of_another_kind(foreign_listener: int) -> None:
    assert not redis_ping(foreign_listener, timeout=0.3)
    assert not kafka_api_versions(foreign_listener, timeout=0.3)


def test_probes_answer_false_when_nothing_listens() -> None:
    port = free_port()
    assert not redis_ping(port)
    assert not kafka_api_versions(port)


def test_a_port_held_by_another_program_is_reported_not_overrun(
    scratch_context: Context, foreign_listener: int
) -> None:
    class RedisOnTakenPort(Redis):
        port = foreign_listener

    redis = RedisOnTakenPort(scratch_context)
    assert status(redis).state is State.PORT_TAKEN
    with pytest.raises(StackError, match=rf"port :{foreign_listener} held by .*Stop that process"):
        ensure_up([redis], progress=False)
    assert redis.pid_file.live_pid() is None
