"""Act on one component of the running stack, whichever mode `make up` used: signal, stop, start.

The chaos drills kill, pause, stop and restart single components through this module, so a drill
restarts a component exactly as `make up` starts it (native: the same launch, pid file and health
wait; compose: the same service of the same project). `stack signal NAME SIG` is its command line.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Protocol

from threadline_native import compose
from threadline_native.component import Component, Context, StackError
from threadline_native.process import is_running
from threadline_native.stack import ensure_up, select, stop_components

NATIVE, COMPOSE = "native", "compose"


def recorded_mode(context: Context) -> str:
    """The mode the last `stack up` used (its state file), native when it never ran."""
    try:
        return (context.layout.state_dir / "mode").read_text().strip() or NATIVE
    except OSError:
        return NATIVE


def parse_signal(name: str) -> signal.Signals:
    """SIGKILL, KILL or 9 as a signal; a clear error for anything else."""
    text = name.strip().upper()
    try:
        return (
            signal.Signals(int(text))
            if text.isdigit()
            else signal.Signals[text if text.startswith("SIG") else f"SIG{text}"]
        )
    except (KeyError, ValueError):
        raise StackError(
            f"unknown signal {name!r}; e.g. SIGKILL, SIGTERM, SIGSTOP, SIGCONT"
        ) from None


class ComponentControl(Protocol):
    def signal(self, name: str, sig: signal.Signals) -> None:
        """Send sig to the component's processes."""

    def stop(self, name: str) -> None:
        """Stop the component as `make down` would."""

    def start(self, name: str) -> None:
        """Start the component as `make up` would, and wait until it is healthy."""

    def running(self, name: str) -> bool:
        """True while a process (container) of the component exists, healthy or not."""


class NativeControl:
    """The native stack: the processes `make up` spawned, found by their pid files."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def _component(self, name: str) -> Component:
        return select(self.context, [name])[0]

    def signal(self, name: str, sig: signal.Signals) -> None:
        component = self._component(name)
        pid = component.pid_file.live_pid()
        if pid is None:
            raise StackError(f"{name} has no process started by `make up`; run `make up` first")
        # Each component leads its own session (spawn), so its process group is all of it:
        # PostgreSQL's backends or a JVM's helpers stop and die with it.
        os.killpg(pid, sig)

    def stop(self, name: str) -> None:
        if not stop_components([self._component(name)]):
            raise StackError(f"{name} has no process started by `make up`; run `make up` first")

    def start(self, name: str) -> None:
        ensure_up([self._component(name)], progress=False)

    def running(self, name: str) -> bool:
        pid = self._component(name).pid_file.live_pid()
        return pid is not None and is_running(pid)


class ComposeControl:
    """The compose stack: the same service names under the project `make up` created."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def command(self, action: str, name: str, sig: signal.Signals | None = None) -> list[str]:
        """The docker compose command for one action on one service."""
        select(self.context, [name])
        if action == "signal":
            if sig is None:
                raise ValueError("signal needs a signal")
            # A container is paused through its cgroup freezer, which is what SIGSTOP/SIGCONT
            # do to a process; compose refuses SIGSTOP through kill for a running container.
            if sig is signal.SIGSTOP:
                return compose.compose_command(self.context.layout, "pause", name)
            if sig is signal.SIGCONT:
                return compose.compose_command(self.context.layout, "unpause", name)
            return compose.compose_command(self.context.layout, "kill", "-s", sig.name, name)
        if action == "running":
            return compose.compose_command(
                self.context.layout, "ps", "--status", "running", "--quiet", name
            )
        if action == "stop":
            return compose.compose_command(self.context.layout, "stop", name)
        if action == "start":
            # `up` rather than `start`: it also waits for the healthcheck, as `make up` does;
            # --no-recreate and --no-deps keep it to starting this very container again.
            return compose.compose_command(
                self.context.layout, "up", "--detach", "--wait", "--no-recreate", "--no-deps", name
            )
        raise ValueError(f"unknown action {action!r}")

    def _run(self, argv: Sequence[str]) -> str:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=180)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv[-2:])} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def signal(self, name: str, sig: signal.Signals) -> None:
        self._run(self.command("signal", name, sig))

    def stop(self, name: str) -> None:
        self._run(self.command("stop", name))

    def start(self, name: str) -> None:
        self._run(self.command("start", name))

    def running(self, name: str) -> bool:
        return bool(self._run(self.command("running", name)).strip())


def control_for(context: Context, mode: str | None = None) -> ComponentControl:
    """The control for the mode given, else the one the running stack was started in."""
    chosen = mode or recorded_mode(context)
    if chosen == COMPOSE:
        return ComposeControl(context)
    if chosen == NATIVE:
        return NativeControl(context)
    raise StackError(f"unknown mode {chosen!r}; expected {NATIVE} or {COMPOSE}")
