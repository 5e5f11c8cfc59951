"""Throughput of a trivial FastAPI route and grpc.aio method with and without the library.

Run with ``make bench-observability``. For each protocol the arms are: ``bare`` (no
instrumentation), ``library`` at sampling 1.0 and at the default 0.1, and the OpenTelemetry
``contrib`` instrumentation at the same two ratios (the comparison that justifies our own
middleware and interceptor). Every arm serves from its own process pinned to one CPU, driven by
a native load generator pinned to the other (``wrk`` for HTTP/1.1, ``h2load`` for gRPC) and
exports over OTLP/gRPC to a sink in a third process. Arms alternate within each round; figures
are medians over rounds, and each ratio is the median of per-round ratios against the bare arm
of the same round. Results go to docs/benchmarks/observability.{md,json}.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
RESULTS = ROOT / "docs" / "benchmarks"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
WARMUP_SECONDS = 1
HTTP_CONNECTIONS = 64
GRPC_CONNECTIONS, GRPC_STREAMS = 4, 16
DEFAULT_RATIO = 0.1


@dataclass(frozen=True)
class Arm:
    name: str
    instrumentation: str
    ratio: float | None


_COMMON = (
    Arm("bare", "bare", None),
    Arm("library @1.0", "library", 1.0),
    Arm(f"library @{DEFAULT_RATIO}", "library", DEFAULT_RATIO),
    Arm("contrib @1.0", "contrib", 1.0),
    Arm(f"contrib @{DEFAULT_RATIO}", "contrib", DEFAULT_RATIO),
)
ARMS = {
    "http": (
        *_COMMON,
        Arm("fastapi-native @1.0", "native", 1.0),
        Arm(f"fastapi-native @{DEFAULT_RATIO}", "native", DEFAULT_RATIO),
    ),
    "grpc": _COMMON,
}


@dataclass
class Measurement:
    protocol: str
    arm: str
    round: int
    requests_per_second: float
    cpu_microseconds_per_request: float


@dataclass
class Load:
    requests: int
    requests_per_second: float


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (the exporter's included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _priority() -> list[str]:
    """Run measured processes ahead of background batch work (niced compilers) when allowed."""
    return ["nice", "-n", "-5"] if os.geteuid() == 0 else []


def _cpus() -> tuple[str, str]:
    """(server CPU, load-generator CPU); the same CPU twice on a one-core machine."""
    available = sorted(os.sched_getaffinity(0))
    return str(available[-1]), str(available[0])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start_server(protocol: str, arm: Arm, port: int, sink_port: int) -> subprocess.Popen[bytes]:
    server_cpu, _ = _cpus()
    env = os.environ | {
        "OTEL_SERVICE_NAME": f"bench-{protocol}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
        "OTEL_TRACES_SAMPLER_ARG": str(arm.ratio or DEFAULT_RATIO),
        "OBS_ADMIN_HOST": "127.0.0.1",
        "OBS_ADMIN_PORT": str(_free_port()),
    }
    command = [*_priority(), "taskset", "-c", server_cpu, sys.executable]
    command += [str(HERE / "servers.py"), protocol]
    command += ["--arm", arm.instrumentation, "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _wait_for_port(port, process)
    return process


def _load(protocol: str, port: int, seconds: int, body: Path) -> Load:
    _, load_cpu = _cpus()
    if protocol == "http":
        command = ["wrk", "-t1", f"-c{HTTP_CONNECTIONS}", f"-d{seconds}s"]
        command.append(f"http://127.0.0.1:{port}/ping")
    else:
        command = ["h2load", f"-c{GRPC_CONNECTIONS}", f"-m{GRPC_STREAMS}", "-t1", f"-D{seconds}"]
        command += ["-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers"]
        command.append(f"http://127.0.0.1:{port}/bench.v1.Bench/Ping")
    output = subprocess.run(
        [*_priority(), "taskset", "-c", load_cpu, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if protocol == "http":
        if "Non-2xx" in output or "Socket errors" in output:
            raise RuntimeError(f"wrk saw errors:\n{output}")
        match = re.search(r"Requests/sec:\s+([\d.]+)", output)
        total = re.search(r"(\d+) requests in", output)
    else:
        failed = re.search(r"requests: .*?(\d+) failed, (\d+) errored", output)
        if failed is None or failed.groups() != ("0", "0"):
            raise RuntimeError(f"h2load saw errors:\n{output}")
        # h2load writes "finished in 1.00s" or, under a second, "finished in 999.85ms".
        match = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", output)
        total = re.search(r"requests: \d+ total, \d+ started, (\d+) done", output)
    if match is None or total is None:
        raise RuntimeError(f"cannot read the load generator's output:\n{output}")
    return Load(requests=int(total.group(1)), requests_per_second=float(match.group(1)))


def _check_grpc(port: int) -> None:
    """One real gRPC call, so h2load's HTTP-level success is known to mean grpc-status 0."""
    import grpc  # noqa: PLC0415

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert channel.unary_unary("/bench.v1.Bench/Ping")(b"ping", timeout=5) == b"pong"


def _measure(protocol: str, arm: Arm, sink_port: int, body: Path, round_: int) -> Measurement:
    port = _free_port()
    server = _start_server(protocol, arm, port, sink_port)
    try:
        if protocol == "grpc":
            _check_grpc(port)
        _load(protocol, port, WARMUP_SECONDS, body)
        cpu_before = _cpu_seconds(server.pid)
        load = _load(protocol, port, SECONDS, body)
        cpu = (_cpu_seconds(server.pid) - cpu_before) / load.requests * 1e6
    finally:
        _stop(server)
    print(
        f"  {protocol:4} {arm.name:20} round {round_}: "
        f"{load.requests_per_second:7.0f} req/s {cpu:6.0f} µs CPU/request",
        flush=True,
    )
    return Measurement(protocol, arm.name, round_, load.requests_per_second, cpu)


def _summarise(measurements: list[Measurement]) -> dict[str, dict[str, dict[str, float]]]:
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for protocol in ("http", "grpc"):
        rows = [m for m in measurements if m.protocol == protocol]
        bare = {m.round: m.requests_per_second for m in rows if m.arm == "bare"}
        bare_cpu = {m.round: m.cpu_microseconds_per_request for m in rows if m.arm == "bare"}
        summary[protocol] = {}
        for arm in ARMS[protocol]:
            mine = {m.round: m.requests_per_second for m in rows if m.arm == arm.name}
            cpu = {m.round: m.cpu_microseconds_per_request for m in rows if m.arm == arm.name}
            ratios = [mine[r] / bare[r] for r in mine]
            cpu_ratios = [bare_cpu[r] / cpu[r] for r in cpu]
            summary[protocol][arm.name] = {
                "requests_per_second": round(statistics.median(mine.values()), 1),
                "ratio_to_bare": round(statistics.median(ratios), 3),
                "min_ratio": round(min(ratios), 3),
                "max_ratio": round(max(ratios), 3),
                "added_microseconds_per_request": round(
                    statistics.median((1 / mine[r] - 1 / bare[r]) * 1e6 for r in mine), 1
                ),
                "cpu_microseconds_per_request": round(statistics.median(cpu.values()), 1),
                "added_cpu_microseconds_per_request": round(
                    statistics.median(cpu[r] - bare_cpu[r] for r in cpu), 1
                ),
                "cpu_ratio_to_bare": round(statistics.median(cpu_ratios), 3),
            }
    return summary


GOALS = {"library @1.0": 0.70, f"library @{DEFAULT_RATIO}": 0.85}


def _report(summary: dict[str, dict[str, dict[str, float]]], context: dict[str, str]) -> str:
    lines = [
        "# Observability overhead",
        "",
        "Generated by `make bench-observability` "
        "(libs/observability/benchmarks/overhead.py); do not edit by hand.",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in context.items()),
        "",
    ]
    names = {"http": "FastAPI route (HTTP/1.1, wrk)", "grpc": "grpc.aio unary method (h2load)"}
    for protocol, arms in summary.items():
        lines += [
            f"## {names[protocol]}",
            "",
            "| arm | req/s | throughput ratio (range) | µs added / request | "
            "CPU µs / request | CPU ratio | µs CPU added | goal (ratio) |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for arm, row in arms.items():
            goal = GOALS.get(arm)
            verdict = ""
            if goal is not None:
                throughput_ok = "met" if row["ratio_to_bare"] >= goal else "NOT met"
                cpu_ok = "met" if row["cpu_ratio_to_bare"] >= goal else "NOT met"
                # Three decimals: a ratio of 0.846 printed as 0.85 must not read as met.
                verdict = (
                    f"≥ {goal}: throughput {throughput_ok} ({row['ratio_to_bare']:.3f}), "
                    f"CPU {cpu_ok} ({row['cpu_ratio_to_bare']:.3f})"
                )
            bare_row = arm == "bare"
            added = "" if bare_row else f"{row['added_microseconds_per_request']:.0f}"
            added_cpu = "" if bare_row else f"{row['added_cpu_microseconds_per_request']:.0f}"
            lines.append(
                f"| {arm} | {row['requests_per_second']:.0f} | {row['ratio_to_bare']:.2f} "
                f"({row['min_ratio']:.2f} to {row['max_ratio']:.2f}) | {added} | "
                f"{row['cpu_microseconds_per_request']:.0f} | {row['cpu_ratio_to_bare']:.2f} | "
                f"{added_cpu} | {verdict} |"
            )
        lines.append("")
    return "\n".join(lines)


def render_only() -> None:
    """Rewrite observability.md from observability.json (after a change to the report)."""
    saved = json.loads((RESULTS / "observability.json").read_text())
    (RESULTS / "observability.md").write_text(_report(saved["summary"], saved["context"]))


def main() -> None:
    if sys.argv[1:] == ["--render-only"]:
        render_only()
        return
    for tool in ("wrk", "h2load", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (make bench-observability installs it)")
    server_cpu, load_cpu = _cpus()
    load_before = os.getloadavg()[0]
    sink_port = _free_port()
    sink = subprocess.Popen(
        ["taskset", "-c", load_cpu, sys.executable, str(HERE / "sink.py"), "--port", str(sink_port)]
    )
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "ping.grpc"
        body.write_bytes(b"\x00" + (4).to_bytes(4, "big") + b"ping")  # one gRPC frame
        try:
            time.sleep(1)
            for round_ in range(1, ROUNDS + 1):
                for protocol in ("http", "grpc"):
                    # Rotate the order so no arm always runs first (or last) in a round.
                    arms = ARMS[protocol]
                    shift = (round_ - 1) % len(arms)
                    measurements.extend(
                        _measure(protocol, arm, sink_port, body, round_)
                        for arm in arms[shift:] + arms[:shift]
                    )
        finally:
            _stop(sink)
    summary = _summarise(measurements)
    context = {
        "when (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"shared with other work; server pinned to CPU {server_cpu}, "
        f"load generator and OTLP sink to CPU {load_cpu}"
        + (", both at nice -5" if _priority() else ""),
        "machine load": f"1-minute load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end on 2 CPUs shared with other builds and tests",
        "software": f"Python {platform.python_version()}, uvicorn {version('uvicorn')}, "
        f"FastAPI {version('fastapi')}, grpcio {version('grpcio')}, "
        f"opentelemetry-sdk {version('opentelemetry-sdk')}",
        "load": f"wrk -t1 -c{HTTP_CONNECTIONS}; h2load -t1 -c{GRPC_CONNECTIONS} "
        f"-m{GRPC_STREAMS}; {WARMUP_SECONDS}s warm-up + {SECONDS}s measured per arm, "
        f"{ROUNDS} rounds, arms alternating",
        "exporter": "real OTLP/gRPC span and log exporters behind setup()'s batch processors "
        "(observability.otlp_batch), sending to an OTLP sink in a separate process that "
        "acknowledges without parsing",
        "library arm": "setup() + instrument_app / server_interceptors, JSON logging, "
        "admin server and gRPC health running",
        "contrib arm": "same provider and exporter; FastAPIInstrumentor (receive/send spans "
        "off) / aio_server_interceptor; spans only, no Prometheus metrics",
        "fastapi-native arm": "FastAPI's built-in OpenTelemetry support with its defaults "
        "(server span + operation spans), same provider and exporter",
        "µs added": "1/throughput(arm) - 1/throughput(bare): server time added per request",
        "CPU µs / request": "user+system CPU time of the server process (all threads, the "
        "exporter's included) over the measured window, divided by requests served; CPU ratio "
        "= bare / arm, i.e. the throughput ratio on a dedicated core",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "observability.json").write_text(
        json.dumps(
            {
                "context": context,
                "summary": summary,
                "measurements": [asdict(m) for m in measurements],
            },
            indent=2,
        )
        + "\n"
    )
    report = _report(summary, context)
    (RESULTS / "observability.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
