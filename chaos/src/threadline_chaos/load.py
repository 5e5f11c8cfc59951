"""Bounded Locust load through a drill: the project's journeys, headless, in the background.

Locust runs as a child process (it patches the standard library for gevent on import) with the
same locustfile, options and prepared accounts as `make load`; its --run-time bounds it even if
this process dies, and `stop` ends it early.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
from pathlib import Path

from threadline_loadtests.runner import RunPlan, locust_command, prepare_test_data
from threadline_native.net import port_is_open

COLLECTOR_PORT = 4317
STOP_TIMEOUT_SECONDS = 30.0


@dataclasses.dataclass
class LoadRun:
    process: subprocess.Popen[bytes]
    out_dir: Path
    log: Path


def start(*, out_dir: Path, users: int, user_rps: float, run_seconds: int) -> LoadRun:
    """Prepare accounts, then start Locust headless for at most run_seconds; return at once."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = RunPlan(
        out_dir=out_dir,
        users=users,
        spawn_rate=float(users),
        user_rps=user_rps,
        accounts=users,
        run_time=f"{run_seconds}s",
        # The client spans go to the stack's collector, so a failed request's trace is whole.
        otlp_endpoint=f"http://127.0.0.1:{COLLECTOR_PORT}" if port_is_open(COLLECTOR_PORT) else "",
        trace_sample_ratio=1.0,
    )
    plan = prepare_test_data(plan)
    log = out_dir / "locust.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            locust_command(plan), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return LoadRun(process=process, out_dir=out_dir, log=log)


def stop(run: LoadRun) -> int | None:
    """Ask Locust to stop (it writes its reports), kill it if it does not; its exit code."""
    if run.process.poll() is None:
        run.process.send_signal(signal.SIGINT)
        try:
            return run.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            run.process.kill()
    return run.process.wait(timeout=STOP_TIMEOUT_SECONDS)
