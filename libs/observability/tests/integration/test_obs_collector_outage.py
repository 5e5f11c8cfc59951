"""A real process whose collector is down, then comes up: one line each way, losses counted.

The process (`_WORKLOAD`, through `observability.setup`) exports spans and logs to a port where
nothing listens; after the outage an OTLP/gRPC receiver starts on that port, as the Collector
would when it is back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

_WORKLOAD = """
import asyncio, logging
from observability import setup

async def main():
    telemetry = setup()
    await telemetry.start()
    tracer, log = telemetry.tracer("outage"), logging.getLogger("outage")
    while True:
        with tracer.start_as_current_span("work"):
            log.info("work done")
        await asyncio.sleep(0.002)

asyncio.run(main())
"""
_SDK_EXPORT_LOGGERS = {"opentelemetry.exporter.otlp.proto.grpc.exporter"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Receiver(
    trace_service_pb2_grpc.TraceServiceServicer, logs_service_pb2_grpc.LogsServiceServicer
):
    """The OTLP/gRPC endpoint of a collector, counting what it is sent."""

    def __init__(self) -> None:
        self.spans = 0
        self.logs = 0

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            self.spans += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
            return trace_service_pb2.ExportTraceServiceResponse()
        self.logs += sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
        return logs_service_pb2.ExportLogsServiceResponse()


def _serve(port: int, receiver: _Receiver) -> grpc.Server:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)  # type: ignore[no-untyped-call]
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(receiver, server)  # type: ignore[no-untyped-call]
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


class _Lines:
    """The process's stdout (a file), parsed on each look."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def lines(self) -> list[dict[str, Any]]:
        parsed = []
        for raw in self._path.read_text().splitlines():
            try:
                parsed.append(json.loads(raw))
            except ValueError:  # a line still being written, or not JSON
                parsed.append({"logger": "", "message": raw, "level": "RAW"})
        return parsed

    def of(self, logger: str, message: str) -> list[dict[str, Any]]:
        return [
            line
            for line in self.lines
            if line["logger"] == logger and line["message"].startswith(message)
        ]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def _metric(admin_port: int, line_start: str) -> float:
    scrape = httpx.get(f"http://127.0.0.1:{admin_port}/metrics", timeout=5).text
    for line in scrape.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not on /metrics")


@pytest.fixture
def process(tmp_path: Path) -> Iterator[tuple[_Lines, int, int]]:
    collector_port, admin_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "outage",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector_port}",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
        # A small queue, so that the outage overflows it within seconds.
        "OTEL_BSP_MAX_QUEUE_SIZE": "256",
        "OTEL_BLRP_MAX_QUEUE_SIZE": "256",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64",
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "64",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        "OBS_ADMIN_HOST": "127.0.0.1",
        "OBS_ADMIN_PORT": str(admin_port),
    }
    stdout = tmp_path / "stdout.log"
    with stdout.open("w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-c", _WORKLOAD],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        yield _Lines(stdout), collector_port, admin_port
    finally:
        child.kill()
        child.wait(10)


def test_an_outage_logs_once_per_signal_and_counts_what_it_dropped(
    process: tuple[_Lines, int, int],
) -> None:
    lines, collector_port, admin_port = process
    failing = "telemetry export failing"
    health = "observability.export_health"

    _wait_for(lambda: len(lines.of(health, failing)) == 2, 30, "both signals fail")
    _wait_for(
        lambda: _metric(admin_port, 'telemetry_items_dropped_total{reason="queue_full"') > 0,
        30,
        "the trace queue overflows",
    )
    time.sleep(8)  # several more failed batches, which must stay silent
    assert _metric(admin_port, 'telemetry_exporter_up{signal="traces"}') == 0
    assert _metric(admin_port, 'telemetry_export_failures_total{signal="traces"}') >= 2
    assert _metric(admin_port, 'telemetry_export_failures_total{signal="logs"}') >= 2

    receiver = _Receiver()
    server = _serve(collector_port, receiver)
    try:
        _wait_for(
            lambda: len(lines.of(health, "telemetry export recovered")) == 2,
            30,
            "both signals report recovery",
        )
        _wait_for(lambda: receiver.spans > 0 and receiver.logs > 0, 10, "spans and logs arrive")
        assert _metric(admin_port, 'telemetry_exporter_up{signal="traces"}') == 1
    finally:
        server.stop(0)

    warnings = lines.of(health, failing)
    assert sorted(line["signal"] for line in warnings) == ["logs", "traces"]
    assert {line["grpc_status"] for line in warnings} == {"UNAVAILABLE"}
    recovered = lines.of(health, "telemetry export recovered")
    assert all(line["failed_batches"] >= 2 and line["dropped_items"] > 0 for line in recovered)
    assert [line for line in lines.lines if line["logger"] in _SDK_EXPORT_LOGGERS] == []
    assert [line for line in lines.lines if line["level"] == "ERROR"] == []
