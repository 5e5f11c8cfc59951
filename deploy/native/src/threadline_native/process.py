"""Start and stop detached server processes, remembered by pid files in the state directory.

A pid file records the pid and the process's start time, so a recycled pid is never mistaken
for ours, and `down` stops only what `up` started.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# Servers started by this very process. Holding their Popen objects lets `stop` reap them (no
# zombie while a long test session runs on) and keeps Python from warning that a child it still
# runs was garbage-collected: detached servers are meant to outlive the handle.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Launch:
    """How to run one server in the foreground; we detach it ourselves."""

    argv: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Run as this system user when we are root (PostgreSQL refuses to run as root).
    user: str | None = None


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process (field 22 of /proc/PID/stat), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; it is the part inside the last parentheses.
    return stat.rsplit(")", 1)[1].split()[19]


class PidFile:
    """One component's record of the process we started for it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def live_pid(self) -> int | None:
        """The recorded pid if that very process still runs; clears a stale record."""
        try:
            pid_text, started = self.path.read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            return None
        if _start_time(pid) != started:
            self.path.unlink(missing_ok=True)
            return None
        if not is_running(pid):
            # Killed but not yet reaped (a child of this very process, e.g. a chaos drill's
            # SIGKILL in a test session): a zombie serves nothing, so the record is stale.
            _reap(pid)
            self.path.unlink(missing_ok=True)
            return None
        return pid

    def record(self, pid: int) -> None:
        started = _start_time(pid)
        if started is None:
            raise RuntimeError(f"process {pid} exited immediately")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid} {started}\n")

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def spawn(launch: Launch, *, log_file: Path, pid_file: PidFile) -> int:
    """Start a detached process logging to log_file; record its pid and return it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **launch.env}
    uid = gid = None
    extra_groups: list[int] | None = None
    if launch.user and os.geteuid() == 0:
        account = pwd.getpwnam(launch.user)
        uid, gid, extra_groups = account.pw_uid, account.pw_gid, []
        env |= {"HOME": account.pw_dir, "USER": launch.user, "LOGNAME": launch.user}
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            launch.argv,
            cwd=launch.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: the server outlives `make up` and ignores the terminal's Ctrl-C.
            start_new_session=True,
            user=uid,
            group=gid,
            extra_groups=extra_groups,
        )
    _children[process.pid] = process
    pid_file.record(process.pid)
    return process.pid


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}


def stop(pid: int, *, stop_signal: signal.Signals, timeout: float) -> bool:
    """Ask a process to stop, wait up to timeout, then kill it; True if it stopped when asked."""
    try:
        os.kill(pid, stop_signal)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not is_running(pid):
                return True
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        return False
    finally:
        _reap(pid, timeout=10)


def _reap(pid: int, *, timeout: float = 0) -> None:
    """Collect the exit status of a server this process started, so it leaves no zombie."""
    if child := _children.pop(pid, None):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)
