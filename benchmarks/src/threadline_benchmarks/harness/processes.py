"""Processes under measurement: free ports, start and stop, readiness, CPU time, CPU pinning."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "cpu_seconds",
    "free_port",
    "pinned",
    "priority",
    "server_and_load_cpus",
    "spawned",
    "stop",
    "wait_for_port",
    "wait_for_port_async",
]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def priority() -> list[str]:
    """Run measured processes ahead of background batch work (niced compilers) when allowed."""
    return ["nice", "-n", "-5"] if os.geteuid() == 0 else []


def server_and_load_cpus() -> tuple[str, str]:
    """(server CPU, load-generator CPU); the same CPU twice on a one-core machine."""
    available = sorted(os.sched_getaffinity(0))
    return str(available[-1]), str(available[0])


def pinned(cpu: str) -> list[str]:
    """The command prefix that confines a process to `cpu` (taskset -c)."""
    return ["taskset", "-c", cpu]


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL when the process has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def spawned(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the length of the block; its output to `log` when given."""
    environment = {**os.environ, **(env or {})}
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log is not None else None
        child = subprocess.Popen(
            argv,
            env=environment,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
        try:
            yield child
        finally:
            stop(child, timeout=30)


def wait_for_port(
    port: int, process: subprocess.Popen[bytes] | None = None, *, timeout: float = 30
) -> None:
    """Until something accepts connections on 127.0.0.1:`port`; fail when `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


async def wait_for_port_async(port: int, *, seconds: float = 120) -> None:
    """`wait_for_port` for code on an event loop."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")
