"""Running Locust as a bounded child process, with our locustfile, options and output files.

Locust patches the standard library for gevent as soon as it is imported; keeping it in a
child process keeps that away from whoever drives the run (the CLI, the benchmark, pytest).
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from threadline_loadtests.accounts import prepare_accounts, save_accounts
from threadline_loadtests.options import DEFAULT_TRACE_SAMPLE_RATIO
from threadline_loadtests.tracing import LoadTracer

__all__ = [
    "LOCUSTFILE",
    "SHAPES",
    "RunPlan",
    "locust_command",
    "parse_duration",
    "prepare_test_data",
    "run_locust",
]

PACKAGE = Path(__file__).resolve().parent
LOCUSTFILE = PACKAGE / "locustfile.py"
# Locust uses the first shape class of its locustfiles, so each shape is a file of its own.
SHAPES = {name: PACKAGE / "shapes" / f"{name}.py" for name in ("ramp", "spike", "soak")}
# Locust's own output file names inside a run's directory.
CSV_PREFIX = "locust"
HISTORY_CSV = f"{CSV_PREFIX}_stats_history.csv"
HTML_REPORT = "report.html"
SUMMARY_JSON = "summary.json"
CPU_MARKS = "cpu-window.marks"
ACCOUNTS_JSON = "accounts.json"
FAILURES_JSONL = "failures.jsonl"

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def parse_duration(text: str) -> int:
    """Seconds in a Locust duration: `90`, `90s`, `5m`, `1h30m`."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"not a duration: {text!r} (examples: 90s, 5m, 1h30m)")
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True, slots=True)
class RunPlan:
    out_dir: Path
    host: str = "http://127.0.0.1:8000"
    grpc_target: str = "127.0.0.1:50051"
    users: int = 20
    spawn_rate: float = 10.0
    run_time: str = "60s"
    user_rps: float = 3.0
    accounts: int = 20
    # Prepared accounts to hand to Locust (see accounts.py); None: Locust prepares its own.
    accounts_file: Path | None = None
    shape: str | None = None
    trace_sample_ratio: float = DEFAULT_TRACE_SAMPLE_RATIO
    otlp_endpoint: str = ""
    signup_pacing_seconds: float = 5.0
    # Measure only once every user runs (Locust's --reset-stats): steady runs, the benchmark.
    measure_after_spawn: bool = False
    # `taskset -c <cpus>`: confine the load generator, so it cannot take the services' CPU.
    cpus: str | None = None
    # Have Locust mark its measured stretch there (--cpu-marks-file; the benchmark).
    cpu_marks_file: Path | None = None
    # Only these user classes (Locust's positional arguments); empty: all of them.
    user_classes: tuple[str, ...] = ()
    headless: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 8089

    @property
    def run_seconds(self) -> int:
        return parse_duration(self.run_time)


def locust_command(plan: RunPlan) -> list[str]:
    files = [str(LOCUSTFILE)]
    if plan.shape is not None:
        if plan.shape not in SHAPES:
            raise ValueError(f"unknown shape {plan.shape!r}; known: {sorted(SHAPES)}")
        files.append(str(SHAPES[plan.shape]))
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        ",".join(files),
        "--host",
        plan.host,
        "--users",
        str(plan.users),
        "--spawn-rate",
        f"{plan.spawn_rate:g}",
        "--run-time",
        plan.run_time,
        "--csv",
        str(plan.out_dir / CSV_PREFIX),
        "--csv-full-history",
        "--html",
        str(plan.out_dir / HTML_REPORT),
        "--grpc-target",
        plan.grpc_target,
        "--user-rps",
        f"{plan.user_rps:g}",
        "--accounts",
        str(plan.accounts),
        "--accounts-file",
        str(plan.accounts_file or ""),
        "--signup-pacing-seconds",
        f"{plan.signup_pacing_seconds:g}",
        "--trace-sample-ratio",
        f"{plan.trace_sample_ratio:g}",
        "--otlp-endpoint",
        plan.otlp_endpoint,
        "--summary-file",
        str(plan.out_dir / SUMMARY_JSON),
        "--failures-file",
        str(plan.out_dir / FAILURES_JSONL),
        "--loglevel",
        "WARNING",
    ]
    if plan.headless:
        command += ["--headless", "--only-summary"]
    else:
        command += ["--web-host", plan.web_host, "--web-port", str(plan.web_port)]
    if plan.measure_after_spawn:
        command.append("--reset-stats")
    if plan.cpu_marks_file is not None:
        command += ["--cpu-marks-file", str(plan.cpu_marks_file)]
    command += plan.user_classes
    if plan.cpus is not None:
        command = ["taskset", "-c", plan.cpus, *command]
    return command


def prepare_test_data(plan: RunPlan) -> RunPlan:
    """Register and log in the plan's accounts now, before Locust starts; the plan using them.

    Raises PreparationError (the service answered wrongly) or httpx.HTTPError (unreachable).
    """
    tracer = LoadTracer(
        sample_ratio=plan.trace_sample_ratio, otlp_endpoint=plan.otlp_endpoint or None
    )
    try:
        accounts = prepare_accounts(
            base_url=plan.host, run_id=secrets.token_hex(4), count=plan.accounts, tracer=tracer
        )
    finally:
        tracer.shutdown()
    path = plan.out_dir / ACCOUNTS_JSON
    save_accounts(accounts, path)
    return dataclasses.replace(plan, accounts_file=path)


def run_locust(plan: RunPlan, *, quiet: bool = False) -> int:
    """Run Locust to completion (bounded by the run time plus a margin); its exit code."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    (plan.out_dir / SUMMARY_JSON).unlink(missing_ok=True)
    (plan.out_dir / FAILURES_JSONL).unlink(missing_ok=True)  # appended to: start empty
    # Preparing the test data and stopping take time of their own; beyond this margin the
    # run is stuck, and a load test must never hang a pipeline.
    timeout = plan.run_seconds + 120 if plan.headless else None
    output = subprocess.DEVNULL if quiet else None
    with subprocess.Popen(
        locust_command(plan),
        stdout=output,
        stderr=subprocess.STDOUT if quiet else None,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as locust:
        try:
            return locust.wait(timeout=timeout)
        except KeyboardInterrupt:
            # Ctrl+C reached Locust too (same process group): let it write its reports.
            return locust.wait(timeout=60)
        except subprocess.TimeoutExpired:
            locust.terminate()
            locust.wait(timeout=30)
            raise
