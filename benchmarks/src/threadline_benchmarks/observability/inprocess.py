"""CPU the library adds per request, measured in-process: steadier than throughput on a busy box.

``python -m threadline_benchmarks observability-inprocess`` calls a trivial FastAPI app through its
ASGI entry point (no server, no sockets) and a grpc.aio unary behaviour through
`ObservabilityServerInterceptor` (a stub servicer context, no transport), 10,000 times per
run, with `setup()` exactly as a service has it: JSON logs, OTLP span and log exporters
sending over gRPC to the benchmark's sink in another process. The figure is the process's CPU
time (all threads, so the exporters' encoding and sending count) per request, including a
final flush of everything still queued. Each configuration runs in a fresh process; runs
alternate and the minimum over rounds is reported (the least-disturbed run on a shared
machine). It leaves out what only a real server adds (HTTP parsing, the grpc.aio transport,
GIL hand-offs under concurrent requests), so it reads as a lower bound of what `overhead.py`
measures; its use is to compare versions of the library with each other.
Results go to docs/benchmarks/observability-inprocess.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import MutableMapping, Sequence
from typing import Any

from threadline_benchmarks.harness.page import RESULTS, write_page
from threadline_benchmarks.harness.processes import free_port, pinned

SINK = "threadline_benchmarks.harness.otlp_sink"
REQUESTS = 10_000
WARMUP = 2_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONFIGS = (("bare", "1.0"), ("library", "1.0"), ("library", "0.1"), ("library", "0.0"))


async def _http_requests(telemetry: Any) -> Any:
    from fastapi import FastAPI  # noqa: PLC0415

    from observability.fastapi import instrument_app  # noqa: PLC0415

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    if telemetry is not None:
        instrument_app(app, telemetry)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ping",
        "raw_path": b"/ping",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    async def requests(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    return requests


class _CallDetails:
    method = "/bench.v1.Bench/Ping"
    invocation_metadata = ()


class _Context:
    """The two servicer-context calls the interceptor makes."""

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("user-agent", "h2load"),)

    def code(self) -> None:
        return None


async def _grpc_requests(telemetry: Any) -> Any:
    import grpc  # noqa: PLC0415

    from observability.grpc import server_interceptors  # noqa: PLC0415

    async def ping(request: bytes, context: Any) -> bytes:
        return b"pong"

    handler = grpc.unary_unary_rpc_method_handler(ping)
    interceptors = server_interceptors(telemetry) if telemetry is not None else []
    details = _CallDetails()

    async def continuation(_details: Any) -> Any:
        return handler

    async def requests(count: int) -> None:
        for _ in range(count):
            method = handler
            for interceptor in interceptors:
                method = await interceptor.intercept_service(continuation, details)
            await method.unary_unary(b"ping", _Context())

    return requests


async def _run(protocol: str, arm: str) -> float:
    from observability import setup  # noqa: PLC0415

    telemetry = setup() if arm == "library" else None
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            # As the server benchmark sends stdout to /dev/null; open for the child's lifetime.
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115, ASYNC230
    requests = await (_http_requests if protocol == "http" else _grpc_requests)(telemetry)
    await requests(WARMUP)
    if telemetry is not None:
        _flush(telemetry)
    started = time.process_time()
    await requests(REQUESTS)
    if telemetry is not None:
        _flush(telemetry)
    cpu = (time.process_time() - started) / REQUESTS * 1e6
    if telemetry is not None:
        telemetry.shutdown_sync()
    return cpu


def _flush(telemetry: Any) -> None:
    # Export what is queued now, so its encoding is charged to the requests that made it.
    telemetry.tracer_provider.force_flush()
    provider = getattr(telemetry, "_logger_provider", None)
    if provider is not None:
        provider.force_flush()


def _one(protocol: str, arm: str, ratio: str, sink_port: int) -> float:
    env = os.environ | {
        "OTEL_SERVICE_NAME": f"bench-{protocol}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
        "OTEL_TRACES_SAMPLER_ARG": ratio,
    }
    cpu = str(sorted(os.sched_getaffinity(0))[-1])
    command = [*pinned(cpu), sys.executable, "-m", __name__, "--child", protocol, arm]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"CPU ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"no figure in the child's output:\n{output}")
    return float(match.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    """Every configuration in fresh processes, rounds alternating; the page at the end."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("PROTOCOL", "ARM"))
    options = parser.parse_args(argv)
    if options.child:
        protocol, arm = options.child
        print(f"CPU {asyncio.run(_run(protocol, arm)):.2f}")
        return 0
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", SINK, "--port", str(sink_port)])
    figures: dict[tuple[str, str, str], list[float]] = {}
    load_before = os.getloadavg()[0]
    try:
        time.sleep(1)
        for round_ in range(1, ROUNDS + 1):
            for protocol in ("http", "grpc"):
                for arm, ratio in CONFIGS:
                    cpu = _one(protocol, arm, ratio, sink_port)
                    figures.setdefault((protocol, arm, ratio), []).append(cpu)
                    print(f"  {protocol} {arm} @{ratio} round {round_}: {cpu:.1f} µs", flush=True)
    finally:
        sink.terminate()
        sink.wait()
    lines = [
        "# Observability overhead, in-process",
        "",
        "Generated by `python -m threadline_benchmarks observability-inprocess`; do not edit "
        "by hand. CPU "
        "time per request of the app called directly (no server, no sockets; OTLP exporters "
        "sending to a sink in another process), minimum and median over "
        f"{ROUNDS} rounds of {REQUESTS:,} requests. A lower bound of the server figures in "
        "observability.md; use it to compare library versions.",
        "",
        f"When (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; 1-minute load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 shared CPUs).",
        "",
        "| protocol | arm | CPU µs / request (min) | median | added over bare (min) |",
        "|---|---|---:|---:|---:|",
    ]
    for protocol in ("http", "grpc"):
        bare = min(figures[(protocol, "bare", "1.0")])
        for arm, ratio in CONFIGS:
            values = figures[(protocol, arm, ratio)]
            name = "bare" if arm == "bare" else f"library @{ratio}"
            added = "" if arm == "bare" else f"{min(values) - bare:.0f}"
            lines.append(
                f"| {protocol} | {name} | {min(values):.0f} | {statistics.median(values):.0f} "
                f"| {added} |"
            )
    report = "\n".join(lines) + "\n"
    write_page(RESULTS / "observability-inprocess.md", report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
