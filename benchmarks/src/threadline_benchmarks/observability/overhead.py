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

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from threadline_benchmarks.harness.page import RESULTS, write_page
from threadline_benchmarks.harness.processes import (
    cpu_seconds,
    free_port,
    pinned,
    priority,
    server_and_load_cpus,
    stop,
    wait_for_port,
)
from threadline_benchmarks.harness.schedule import rotated
from threadline_benchmarks.observability.arms import (
    ARMS,
    DEFAULT_ARMS,
    DEFAULT_RATIO,
    GRPC_CONNECTIONS,
    GRPC_STREAMS,
    HTTP_CONNECTIONS,
    ROUNDS,
    SECONDS,
    WARMUP_SECONDS,
    Arm,
    Measurement,
)
from threadline_benchmarks.observability.page import render_only, report, summarise

__all__ = ["main"]

SINK = "threadline_benchmarks.harness.otlp_sink"


@dataclass
class Load:
    requests: int
    requests_per_second: float


def _start_server(protocol: str, arm: Arm, port: int, sink_port: int) -> subprocess.Popen[bytes]:
    server_cpu, _ = server_and_load_cpus()
    env = os.environ | {
        "OTEL_SERVICE_NAME": f"bench-{protocol}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
        "OTEL_TRACES_SAMPLER_ARG": str(arm.ratio or DEFAULT_RATIO),
        "OBS_ADMIN_HOST": "127.0.0.1",
        "OBS_ADMIN_PORT": str(free_port()),
    }
    command = [*priority(), *pinned(server_cpu), sys.executable]
    command += ["-m", "threadline_benchmarks.observability.servers", protocol]
    command += ["--arm", arm.instrumentation, "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


def _load(protocol: str, port: int, seconds: int, body: Path) -> Load:
    _, load_cpu = server_and_load_cpus()
    if protocol == "http":
        command = ["wrk", "-t1", f"-c{HTTP_CONNECTIONS}", f"-d{seconds}s"]
        command.append(f"http://127.0.0.1:{port}/ping")
    else:
        command = ["h2load", f"-c{GRPC_CONNECTIONS}", f"-m{GRPC_STREAMS}", "-t1", f"-D{seconds}"]
        command += ["-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers"]
        command.append(f"http://127.0.0.1:{port}/bench.v1.Bench/Ping")
    output = subprocess.run(
        [*priority(), *pinned(load_cpu), *command],
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
    port = free_port()
    server = _start_server(protocol, arm, port, sink_port)
    try:
        if protocol == "grpc":
            _check_grpc(port)
        _load(protocol, port, WARMUP_SECONDS, body)
        cpu_before = cpu_seconds(server.pid)
        load = _load(protocol, port, SECONDS, body)
        cpu = (cpu_seconds(server.pid) - cpu_before) / load.requests * 1e6
    finally:
        stop(server)
    print(
        f"  {protocol:4} {arm.name:20} round {round_}: "
        f"{load.requests_per_second:7.0f} req/s {cpu:6.0f} µs CPU/request",
        flush=True,
    )
    return Measurement(protocol, arm.name, round_, load.requests_per_second, cpu)


def main(argv: Sequence[str] = ()) -> int:
    """Run every arm of both protocols (or, with --render-only, rewrite the page from JSON)."""
    parser = argparse.ArgumentParser(prog="bench-observability")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--protocols", nargs="+", choices=("http", "grpc"), default=["http", "grpc"]
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=RESULTS / "observability.md",
        help="the page to write (its JSON beside it); another name keeps observability.md",
    )
    parser.add_argument(
        "--arms", nargs="+", default=sorted(DEFAULT_ARMS), help="arm names (bare always runs)"
    )
    options = parser.parse_args(argv)
    chosen = {*options.arms, "bare"}
    if options.render_only:
        render_only(options.doc)
        return 0
    for tool in ("wrk", "h2load", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (make bench-observability installs it)")
    server_cpu, load_cpu = server_and_load_cpus()
    load_before = os.getloadavg()[0]
    sink_port = free_port()
    sink = subprocess.Popen(
        [*pinned(load_cpu), sys.executable, "-m", SINK, "--port", str(sink_port)]
    )
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "ping.grpc"
        body.write_bytes(b"\x00" + (4).to_bytes(4, "big") + b"ping")  # one gRPC frame
        try:
            time.sleep(1)
            for round_ in range(1, ROUNDS + 1):
                for protocol in options.protocols:
                    # Rotate the order so no arm always runs first (or last) in a round.
                    measurements.extend(
                        _measure(protocol, arm, sink_port, body, round_)
                        for arm in rotated(
                            tuple(arm for arm in ARMS[protocol] if arm.name in chosen), round_
                        )
                    )
        finally:
            stop(sink)
    summary = summarise(measurements, chosen)
    context = {
        "when (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"shared with other work; server pinned to CPU {server_cpu}, "
        f"load generator and OTLP sink to CPU {load_cpu}"
        + (", both at nice -5" if priority() else ""),
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
    page = report(summary, context)
    write_page(
        options.doc,
        page,
        {"context": context, "summary": summary, "measurements": [asdict(m) for m in measurements]},
    )
    print(page)
    return 0
