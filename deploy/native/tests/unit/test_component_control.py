"""One component's signal/stop/start goes to the runner of the mode the stack was started in:
native processes by their pid files, or the same compose service by name."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

import pytest

from threadline_native.component import Context, StackError
from threadline_native.component_control import (
    ComposeControl,
    NativeControl,
    control_for,
    parse_signal,
    recorded_mode,
)
from threadline_native.process import Launch, is_running, spawn
from threadline_native.stack import select


def _record_mode(context: Context, mode: str) -> None:
    context.layout.state_dir.mkdir(parents=True, exist_ok=True)
    (context.layout.state_dir / "mode").write_text(mode + "\n")


def test_the_mode_of_the_last_up_chooses_the_control(scratch_context: Context) -> None:
    assert recorded_mode(scratch_context) == "native"
    assert isinstance(control_for(scratch_context), NativeControl)
    _record_mode(scratch_context, "compose")
    assert isinstance(control_for(scratch_context), ComposeControl)
    assert isinstance(control_for(scratch_context, "native"), NativeControl)
    with pytest.raises(StackError, match="unknown mode"):
        control_for(scratch_context, "kubernetes")


@pytest.mark.parametrize(
    ("action", "sig", "tail"),
    [
        ("signal", signal.SIGKILL, ["kill", "-s", "SIGKILL", "order"]),
        ("signal", signal.SIGTERM, ["kill", "-s", "SIGTERM", "order"]),
        ("signal", signal.SIGSTOP, ["pause", "order"]),
        ("signal", signal.SIGCONT, ["unpause", "order"]),
        ("stop", None, ["stop", "order"]),
        ("start", None, ["up", "--detach", "--wait", "--no-recreate", "--no-deps", "order"]),
        ("running", None, ["ps", "--status", "running", "--quiet", "order"]),
    ],
)
def test_compose_runs_the_same_service_of_the_project(
    scratch_context: Context, action: str, sig: signal.Signals | None, tail: list[str]
) -> None:
    command = ComposeControl(scratch_context).command(action, "order", sig)
    assert command[:4] == ["docker", "compose", "--project-name", "threadline"]
    assert str(scratch_context.layout.compose_dir / "compose.yaml") in command
    assert command[-len(tail) :] == tail


def test_compose_refuses_a_component_the_stack_does_not_have(scratch_context: Context) -> None:
    with pytest.raises(StackError, match="unknown component"):
        ComposeControl(scratch_context).command("stop", "mongodb")


def test_signals_are_named_any_usual_way() -> None:
    assert parse_signal("SIGKILL") is signal.SIGKILL
    assert parse_signal("term") is signal.SIGTERM
    assert parse_signal("19") is signal.SIGSTOP
    with pytest.raises(StackError, match="unknown signal 'SIGFOO'"):
        parse_signal("SIGFOO")


def test_native_signal_reaches_the_process_of_the_pid_file(scratch_context: Context) -> None:
    component = select(scratch_context, ["redis"])[0]
    control = NativeControl(scratch_context)
    with pytest.raises(StackError, match="no process started by `make up`"):
        control.signal("redis", signal.SIGKILL)
    pid = spawn(
        Launch(argv=[sys.executable, "-c", "import time; time.sleep(60)"]),
        log_file=scratch_context.layout.log_file("redis"),
        pid_file=component.pid_file,
    )
    assert control.running("redis")
    control.signal("redis", signal.SIGSTOP)
    assert _eventually(lambda: _state(pid) == "T")
    control.signal("redis", signal.SIGCONT)
    assert _eventually(lambda: _state(pid) != "T")
    control.signal("redis", signal.SIGKILL)
    assert _eventually(lambda: not is_running(pid))
    assert not control.running("redis")


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
