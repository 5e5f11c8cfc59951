"""A request or RPC that fails: every line about it joins its trace, and nothing it carried leaks.

The app's own error line, the line of the server that ran it (uvicorn, grpc.aio) and the span
all carry the caller's trace; the exception's text is redacted on each; and a 500 does not cost
a keep-alive client its next request. uvicorn and grpc.aio run for real, on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from observability import Telemetry
from observability.asgi import ObservabilityMiddleware
from observability.fastapi import instrument_app
from observability.grpc import server_interceptors

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
# What a failed INSERT puts in its message when its engine shows parameters.
DATABASE_ERROR = (
    "invalid byte sequence for encoding UTF8: 0x00\n"
    "[parameters: ('ada@example.com', '$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')]"
)
SECRETS = ("ada@example.com", "$argon2id$", "aGFzaGhhc2g")

_log = logging.getLogger("test.failed")

Lines = Callable[[], list[dict[str, Any]]]


def _app(telemetry: Telemetry) -> FastAPI:
    """An app shaped like the services': a catch-all handler that logs and answers 500."""
    app = FastAPI()

    @app.get("/register")
    async def register() -> None:
        raise RuntimeError(DATABASE_ERROR)

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    def unhandled(_: Request, error: Exception) -> JSONResponse:
        _log.error("unhandled error", exc_info=error)
        return JSONResponse({"status": 500}, status_code=500)

    app.add_exception_handler(Exception, unhandled)
    instrument_app(app, telemetry)
    return app


def _server_span_ids(spans: InMemorySpanExporter) -> tuple[str, str]:
    (span,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _uvicorn(app: Any) -> AsyncIterator[str]:
    """``app`` served by a real uvicorn (its loggers reach the root logger, as `serve` sets)."""
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers only the flag
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_a_500_leaves_error_lines_joined_to_the_callers_trace_and_redacted(
    telemetry: Telemetry, spans: InMemorySpanExporter, json_logs: Lines
) -> None:
    async with _uvicorn(_app(telemetry)) as base_url, httpx.AsyncClient() as client:
        response = await client.get(f"{base_url}/register", headers={"traceparent": TRACEPARENT})

    assert response.status_code == 500
    trace_id, span_id = _server_span_ids(spans)
    assert trace_id == TRACE_ID
    errors = [line for line in json_logs() if line["level"] == "ERROR"]
    # The app's handler ran inside the span; the exception it re-raised reached the
    # middleware, which logged it in the span too, instead of uvicorn outside it.
    assert [(line["logger"], line["message"]) for line in errors] == [
        ("test.failed", "unhandled error"),
        ("observability.asgi", "Exception in ASGI application"),
        ("observability.access", "request handled"),
    ]
    for line in errors:
        assert (line["trace_id"], line["span_id"]) == (trace_id, span_id), line["message"]
        assert not any(secret in repr(line) for secret in SECRETS), line
    for line in errors[:2]:
        assert line["exception.message"].endswith("[parameters: [REDACTED]]")


async def test_the_span_records_the_exception_redacted(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    transport = httpx.ASGITransport(app=_app(telemetry))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        assert (await client.get("/register")).status_code == 500

    (span,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    (event,) = span.events
    assert event.name == "exception"
    recorded = repr(dict(event.attributes or {})) + str(span.status.description)
    assert not any(secret in recorded for secret in SECRETS)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == (
        "invalid byte sequence for encoding UTF8: 0x00\n[parameters: [REDACTED]]"
    )


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, dict[str, str]]:
    """One HTTP/1.1 keep-alive request on an open connection: its status and headers."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    await reader.readexactly(int(headers["content-length"]))
    return int(head[0].split()[1]), headers


async def test_a_keep_alive_connection_serves_the_next_request_after_a_500(
    telemetry: Telemetry,
) -> None:
    # Before: the exception Starlette re-raises after its 500 made uvicorn close the
    # connection, though the 500 did not say "Connection: close"; a client reusing it lost
    # its next request, with no response and no log line on the server.
    async with _uvicorn(_app(telemetry)) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            async with asyncio.timeout(10):
                failed, failed_headers = await _exchange(reader, writer, "/register")
                following, _ = await _exchange(reader, writer, "/ok")
        finally:
            writer.close()

    assert failed == 500
    assert "close" not in failed_headers.get("connection", "")
    assert following == 200


async def test_uvicorns_own_line_about_an_escaped_exception_carries_the_trace(
    telemetry: Telemetry, spans: InMemorySpanExporter, json_logs: Lines
) -> None:
    # A bare ASGI app raising before any response: the exception leaves the middleware and
    # uvicorn logs it after the span has ended.
    async def fails_before_answering(
        scope: MutableMapping[str, Any], receive: Any, send: Any
    ) -> None:
        raise RuntimeError("lost ada@example.com")

    app = ObservabilityMiddleware(
        fails_before_answering,
        tracer=telemetry.tracer("test"),
        duration=telemetry.metrics.http_server_duration,
        redactor=telemetry.redactor,
    )
    async with _uvicorn(app) as base_url, httpx.AsyncClient() as client:
        response = await client.get(f"{base_url}/x", headers={"traceparent": TRACEPARENT})

    assert response.status_code == 500
    trace_id, span_id = _server_span_ids(spans)
    assert trace_id == TRACE_ID
    errors = [line for line in json_logs() if line["level"] == "ERROR"]
    assert [(line["logger"], line["message"]) for line in errors] == [
        ("observability.access", "request handled"),
        ("uvicorn.error", "Exception in ASGI application\n"),
    ]
    for line in errors:
        assert (line["trace_id"], line["span_id"]) == (trace_id, span_id), line["logger"]
        assert "ada@example.com" not in repr(line)


async def test_grpc_aios_own_line_about_an_escaped_exception_carries_the_trace(
    telemetry: Telemetry, spans: InMemorySpanExporter, json_logs: Lines
) -> None:
    async def create(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        raise RuntimeError(DATABASE_ERROR)

    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    handler = grpc.unary_unary_rpc_method_handler(create)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.v1.Orders", {"Create": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await channel.unary_unary("/test.v1.Orders/Create")(
                    b"", metadata=(("traceparent", TRACEPARENT),), timeout=5
                )
    finally:
        await server.stop(None)

    assert raised.value.code() is grpc.StatusCode.UNKNOWN
    trace_id, span_id = _server_span_ids(spans)
    assert trace_id == TRACE_ID
    (line,) = [line for line in json_logs() if line["logger"] == "grpc._cython.cygrpc"]
    assert line["message"].startswith("Unexpected [RuntimeError] raised by servicer method")
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert not any(secret in repr(line) for secret in SECRETS)
    (span,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert not any(secret in repr(dict(span.events[0].attributes or {})) for secret in SECRETS)
