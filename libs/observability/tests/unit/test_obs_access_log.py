"""The access log's short path writes what the logging path writes, on stdout and over OTLP."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from observability import ObservabilitySettings, Telemetry, setup
from observability.access_log import ACCESS_LOGGER, AccessLog
from observability.fastapi import instrument_app
from observability.redaction import Redactor


class _Configured:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        settings = ObservabilitySettings(
            service_name="svc", traces_sampler_ratio=1.0, admin_port=0, admin_host="127.0.0.1"
        )
        # JSON logging on stdout and OTLP logs, as a service has them.
        self.telemetry: Telemetry = setup(
            settings,
            span_exporter=self.spans,
            log_exporter=self.logs,
            registry=CollectorRegistry(),
            set_global=False,
        )


@contextlib.contextmanager
def _configured() -> Iterator[_Configured]:
    """Use inside the test: the stdout handler keeps the sys.stdout it finds (capsys's)."""
    configured = _Configured()
    try:
        yield configured
    finally:
        configured.telemetry.shutdown_sync()


def _access_lines(output: str) -> list[dict[str, Any]]:
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == ACCESS_LOGGER]


def _otlp(records: tuple[ReadableLogRecord, ...]) -> list[dict[str, Any]]:
    return [
        {
            "body": data.log_record.body,
            "attributes": dict(data.log_record.attributes or {}),
            "severity_text": data.log_record.severity_text,
            "severity_number": data.log_record.severity_number,
            "trace_id": data.log_record.trace_id,
            "span_id": data.log_record.span_id,
            "trace_flags": data.log_record.trace_flags,
        }
        for data in records
        if data.instrumentation_scope and data.instrumentation_scope.name == ACCESS_LOGGER
    ]


async def test_a_sampled_request_writes_its_line_to_stdout_and_otlp_with_its_trace_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def get_user(user_id: str) -> dict[str, str]:
        return {"id": user_id}

    with _configured() as configured:
        instrument_app(app, configured.telemetry)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/users/42")

    (span,) = configured.spans.get_finished_spans()
    (line,) = _access_lines(capsys.readouterr().out)
    assert list(line) == [
        "timestamp",
        "level",
        "service",
        "logger",
        "message",
        "trace_id",
        "span_id",
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "duration_ms",
    ]
    assert line["trace_id"] == format(span.context.trace_id, "032x")
    assert line["span_id"] == format(span.context.span_id, "016x")
    assert (line["level"], line["service"], line["message"]) == ("INFO", "svc", "request handled")
    assert (line["http.route"], line["http.response.status_code"]) == ("/users/{user_id}", 200)
    (record,) = _otlp(configured.logs.get_finished_logs())
    assert record["trace_id"] == span.context.trace_id
    assert record["span_id"] == span.context.span_id
    assert record["body"] == "request handled"
    assert record["attributes"]["http.route"] == "/users/{user_id}"


@pytest.mark.parametrize("level", [logging.INFO, logging.ERROR])
def test_the_short_path_writes_exactly_what_the_logging_path_writes(
    capsys: pytest.CaptureFixture[str], level: int
) -> None:
    fields = {
        "http.request.method": "POST",
        "http.route": "/orders",
        "http.response.status_code": 503,
        "duration_ms": 1.5,
    }
    with _configured() as configured:
        telemetry = configured.telemetry
        with telemetry.tracer("t").start_as_current_span("POST /orders") as span:
            context = span.get_span_context()
            telemetry.access_log.write(level, "request handled", dict(fields), context)
            AccessLog().write(level, "request handled", dict(fields), context)

    direct, through_logging = _access_lines(capsys.readouterr().out)
    assert direct.pop("timestamp")[:16] == through_logging.pop("timestamp")[:16]
    assert direct == through_logging
    assert direct["trace_id"] == format(context.trace_id, "032x")
    direct_record, logging_record = _otlp(configured.logs.get_finished_logs())
    assert direct_record == logging_record


def test_the_access_logger_level_still_silences_the_short_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.WARNING)
    try:
        with _configured() as configured:
            access_log = configured.telemetry.access_log
            with configured.telemetry.tracer("t").start_as_current_span("GET /") as span:
                context = span.get_span_context()
                access_log.write(logging.INFO, "request handled", {"a": 1}, context)
                access_log.write(logging.ERROR, "request handled", {"a": 2}, context)
    finally:
        logger.setLevel(logging.NOTSET)

    assert [line["a"] for line in _access_lines(capsys.readouterr().out)] == [2]
    records = _otlp(configured.logs.get_finished_logs())
    assert [record["attributes"]["a"] for record in records] == [2]


def test_strings_in_access_lines_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    with _configured() as configured:
        telemetry = configured.telemetry
        with telemetry.tracer("t").start_as_current_span("GET /") as span:
            fields = {"http.route": "/login?password=hunter2"}
            telemetry.access_log.write(
                logging.INFO, "request handled", fields, span.get_span_context()
            )

    (line,) = _access_lines(capsys.readouterr().out)
    assert line["http.route"] == "/login?password=[REDACTED]"
    (record,) = _otlp(configured.logs.get_finished_logs())
    assert "hunter2" not in repr(record)


def test_a_broken_stdout_never_fails_the_request(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    stream.close()
    access_log = AccessLog.direct(
        service="svc",
        stdout=logging.StreamHandler(stream),
        redactor=Redactor(),
        logger_provider=None,
    )
    with TracerProvider().get_tracer("t").start_as_current_span("GET /") as span:
        access_log.write(logging.INFO, "request handled", {"a": 1}, span.get_span_context())

    assert "I/O operation on closed file" in capsys.readouterr().err
