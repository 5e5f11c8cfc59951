"""The native tool runs a real server: start once, reuse after, stop only what it started."""

from __future__ import annotations

import pytest

from threadline_native.component import Context, StackError
from threadline_native.components.redis import Redis
from threadline_native.net import free_port, redis_ping
from threadline_native.process import Launch
from threadline_native.stack import State, ensure_up, status, stop_components

pytestmark = pytest.mark.integration


def test_up_is_idempotent_and_down_stops_what_up_started(scratch_context: Context) -> None:
    class PrivateRedis(Redis):
        port = free_port()

    redis = PrivateRedis(scratch_context)
    assert status(redis).state is State.STOPPED
    try:
        assert ensure_up([redis], progress=False) == [redis]
        first = status(redis)
        assert first.state is State.RUNNING
        assert redis_ping(redis.port)

        # A second `up` starts nothing and keeps the same process.
        assert ensure_up([redis], progress=False) == []
        assert status(redis).pid == first.pid
        assert scratch_context.layout.log_file("redis").read_text()
    finally:
        stopped = stop_components([redis])
    assert stopped == [redis]
    assert status(redis).state is State.STOPPED
    assert not redis_ping(redis.port)


def test_down_leaves_alone_a_server_it_did_not_start(scratch_context: Context) -> None:
    class PrivateRedis(Redis):
        port = free_port()

    owner, bystander = PrivateRedis(scratch_context), None
    try:
        ensure_up([owner], progress=False)
        # Another checkout (other state dir) finds the server already answering and reuses it.
        bystander = PrivateRedis(
            Context(
                layout=type(scratch_context.layout)(scratch_context.layout.root / "other"),
                versions=scratch_context.versions,
            )
        )
        assert ensure_up([bystander], progress=False) == []
        assert status(bystander).state is State.REUSED
        assert stop_components([bystander]) == []
        assert redis_ping(owner.port)
    finally:
        stop_components([owner])


def test_a_failed_up_names_the_component_and_stops_what_it_had_started(
    scratch_context: Context,
) -> None:
    class FirstRedis(Redis):
        port = free_port()

    class BrokenRedis(Redis):
        name = "broken-redis"
        port = free_port()

        def launch(self) -> Launch:
            launch = super().launch()
            # redis-server refuses an unknown directive and says why on its way out.
            return Launch(argv=[*launch.argv, "--no-such-directive", "yes"])

    first, broken = FirstRedis(scratch_context), BrokenRedis(scratch_context)
    try:
        with pytest.raises(StackError) as raised:
            ensure_up([first, broken], progress=False)
        message = str(raised.value)
        assert "Redis" in message
        assert "exited during start-up" in message
        # The log line that says why is in the message, and what this run started is down again.
        assert "no-such-directive" in message
        assert "stopped again what this run had started: redis" in message
        assert status(first).state is State.STOPPED
        assert not redis_ping(first.port)
    finally:
        stop_components([first, broken])


def test_a_component_that_never_becomes_healthy_is_stopped_with_the_rest(
    scratch_context: Context,
) -> None:
    class FirstRedis(Redis):
        port = free_port()

    class SilentRedis(Redis):
        # Its process runs, but it never answers the probe in time: a hung start-up.
        name = "silent-redis"
        port = free_port()
        startup_timeout = 1.0

        def healthy(self) -> bool:
            return False

    first, silent = FirstRedis(scratch_context), SilentRedis(scratch_context)
    try:
        with pytest.raises(StackError, match="did not become healthy"):
            ensure_up([first, silent], progress=False)
        assert silent.pid_file.live_pid() is None
        assert not redis_ping(silent.port)
        assert status(first).state is State.STOPPED
    finally:
        stop_components([first, silent])
