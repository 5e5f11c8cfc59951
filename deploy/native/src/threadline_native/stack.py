"""Bring the native stack up and down, and report on it."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from threadline_native.component import Component, Context, StackError
from threadline_native.components import ALL
from threadline_native.net import describe_listener, port_is_open
from threadline_native.paths import Layout, find_project_root
from threadline_native.process import is_running, spawn, stop
from threadline_native.versions import load_versions


class State(Enum):
    RUNNING = "running"  # started by us and healthy
    REUSED = "reused"  # a compatible server we did not start answers on the port
    STARTING = "starting"  # our process runs but does not answer yet
    STOPPED = "stopped"
    PORT_TAKEN = "port taken"  # something else listens on the port


@dataclass(frozen=True)
class Status:
    component: Component
    state: State
    pid: int | None
    detail: str = ""


def load_context(layout: Layout | None = None) -> Context:
    layout = layout or Layout(find_project_root())
    return Context(layout=layout, versions=load_versions(layout.versions_file))


def select(context: Context, names: Iterable[str] = ()) -> list[Component]:
    """The named components (all when none are named), in start order."""
    wanted = set(names)
    known = {cls.name for cls in ALL}
    if unknown := wanted - known:
        raise StackError(f"unknown component(s): {', '.join(sorted(unknown))}; known: {known}")
    return [cls(context) for cls in ALL if not wanted or cls.name in wanted]


def status(component: Component) -> Status:
    pid = component.pid_file.live_pid()
    if component.healthy():
        return Status(component, State.RUNNING if pid else State.REUSED, pid)
    if pid:
        return Status(component, State.STARTING, pid)
    for port in (component.port, *component.extra_ports):
        if port_is_open(port):
            return Status(
                component, State.PORT_TAKEN, None, f":{port} held by {describe_listener(port)}"
            )
    return Status(component, State.STOPPED, None)


def ensure_up(components: Sequence[Component], *, progress: bool = True) -> list[Component]:
    """Start whatever is not running yet and wait until healthy; return those we started now.

    When one component cannot be built, started or made healthy, the ones this call started are
    stopped again before the error propagates: a failed `up` never leaves half a stack running.
    """
    started: list[Component] = []
    try:
        for component in components:
            _bring_up(component, started, progress=progress)
    except StackError as error:
        stopped = stop_components(started)
        note = f"\n(stopped again what this run had started: {', '.join(c.name for c in stopped)})"
        raise StackError(str(error) + (note if stopped else "")) from error
    except BaseException:
        stop_components(started)
        raise
    return started


def _bring_up(component: Component, started: list[Component], *, progress: bool) -> None:
    """Make one component healthy; a process it spawns joins `started` at once, so a start-up
    that then fails or hangs is stopped with the rest."""
    current = status(component)
    if current.state is State.PORT_TAKEN:
        raise StackError(
            f"{component.title} cannot start: port {current.detail}, which is not a "
            f"{component.title} server Threadline can use. Stop that process and retry."
        )
    if current.state is State.STOPPED:
        try:
            component.prepare()
        except StackError as error:
            raise StackError(f"{component.title} could not be prepared: {error}") from error
        spawn(
            component.launch(),
            log_file=component.layout.log_file(component.name),
            pid_file=component.pid_file,
        )
        started.append(component)
    if current.state not in (State.RUNNING, State.REUSED):
        _wait_healthy(component, progress=progress)
    component.after_start()


def _wait_healthy(component: Component, *, progress: bool) -> None:
    began = time.monotonic()
    deadline = began + component.startup_timeout
    log_file = component.layout.log_file(component.name)
    while True:
        if component.healthy():
            if progress:
                _progress(
                    f"{component.name}: healthy after {time.monotonic() - began:.1f}s", end=True
                )
            return
        pid = component.pid_file.live_pid()
        if pid is None or not is_running(pid):
            component.pid_file.clear()
            raise StackError(f"{component.title} exited during start-up:\n{_tail(log_file)}")
        if time.monotonic() > deadline:
            raise StackError(
                f"{component.title} did not become healthy within {component.startup_timeout:.0f}s "
                f"(log: {log_file}):\n{_tail(log_file)}"
            )
        if progress:
            _progress(
                f"{component.name}: waiting for {component.url} ({time.monotonic() - began:.0f}s)"
            )
        time.sleep(0.25)


def _progress(message: str, *, end: bool = False) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{message}" + ("\n" if end else ""))
    elif end:
        sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open(errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_components(components: Sequence[Component]) -> list[Component]:
    """Stop, in reverse start order, the components whose process we started; return them."""
    stopped = []
    for component in reversed(components):
        pid = component.pid_file.live_pid()
        if pid is None:
            continue
        stop(pid, stop_signal=component.stop_signal, timeout=component.stop_timeout)
        component.pid_file.clear()
        stopped.append(component)
    return stopped
