"""Which requests and RPCs write an access line: sampled, failed or slow ones (or all, or none)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import ValidationError

from observability import ObservabilitySettings, Telemetry
from observability.access_policy import AccessLogMode, AccessPolicy, access_policy_of
from observability.fastapi import instrument_app
from observability.grpc import server_interceptors
from observability.settings import describe_errors
from observability.testing import isolated_telemetry

SAMPLED, ALL, OFF = AccessLogMode.SAMPLED, AccessLogMode.ALL, AccessLogMode.OFF
OBJECTIVE = 0.25
# A traceparent whose flags say "not sampled": the parent-based sampler follows it.
SAMPLED_OUT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
SAMPLED_IN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("mode", "sampled", "failed", "seconds", "logged"),
    [
        # sampled: a stored trace always has its line...
        (SAMPLED, True, False, 0.001, True),
        (SAMPLED, True, True, 0.001, True),
        # ...a failure and a slow request too, even sampled out...
        (SAMPLED, False, True, 0.001, True),
        (SAMPLED, False, False, 0.251, True),
        # ...and nothing else: at the objective is within it, as the SLO's le bucket counts.
        (SAMPLED, False, False, 0.001, False),
        (SAMPLED, False, False, OBJECTIVE, False),
        (ALL, False, False, 0.001, True),
        (ALL, True, True, 9.0, True),
        (OFF, True, True, 9.0, False),
        (OFF, False, False, 0.001, False),
    ],
)
def test_the_decision_table(
    mode: AccessLogMode, sampled: bool, failed: bool, seconds: float, logged: bool
) -> None:
    policy = AccessPolicy(mode, latency_objective_seconds=OBJECTIVE)
    assert policy.wants(sampled=sampled, failed=failed, seconds=seconds) is logged


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("sampled", SAMPLED),
        (" ALL ", ALL),
        ("off", OFF),
        # The on/off switch it was before.
        ("true", SAMPLED),
        ("1", SAMPLED),
        ("false", OFF),
        ("0", OFF),
    ],
)
def test_obs_access_log_names_a_mode_and_still_reads_the_old_switch(
    monkeypatch: pytest.MonkeyPatch, value: str, mode: AccessLogMode
) -> None:
    monkeypatch.setenv("OBS_ACCESS_LOG", value)
    assert ObservabilitySettings().access_log is mode


def test_an_unknown_mode_or_a_non_positive_objective_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBS_ACCESS_LOG", "errors")
    monkeypatch.setenv("OBS_LATENCY_OBJECTIVE_SECONDS", "0")
    with pytest.raises(ValidationError) as caught:
        ObservabilitySettings()
    message = describe_errors(caught.value, ObservabilitySettings)
    assert "OBS_ACCESS_LOG: Input should be 'sampled', 'all' or 'off'" in message
    assert "OBS_LATENCY_OBJECTIVE_SECONDS: Input should be greater than 0" in message


def test_the_policy_takes_the_settings_objective_and_an_explicit_mode_wins() -> None:
    settings = ObservabilitySettings(access_log="all", latency_objective_seconds=0.5)
    assert access_policy_of(settings) == AccessPolicy(ALL, 0.5)
    assert access_policy_of(settings, False) == AccessPolicy(OFF, 0.5)
    assert access_policy_of(settings, True) == AccessPolicy(SAMPLED, 0.5)
    assert access_policy_of(settings, OFF) == AccessPolicy(OFF, 0.5)


# Through the middleware and the interceptor -------------------------------------------------

SLOW_SECONDS = 0.12
FAST_OBJECTIVE = 0.06


def _telemetry(mode: str) -> Telemetry:
    # Sampling 0: only a caller's sampled traceparent makes a sampled trace.
    telemetry, _ = isolated_telemetry(
        traces_sampler_ratio=0.0, access_log=mode, latency_objective_seconds=FAST_OBJECTIVE
    )
    return telemetry


def _http_app(telemetry: Telemetry) -> FastAPI:
    app = FastAPI()

    @app.get("/fast")
    async def fast() -> dict[str, str]:
        return {}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(SLOW_SECONDS)
        return {}

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404)

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise HTTPException(503)

    instrument_app(app, telemetry)
    return app


async def _http_lines(
    mode: str, path: str, json_logs: Callable[[], list[dict[str, Any]]], traceparent: str
) -> list[dict[str, Any]]:
    telemetry = _telemetry(mode)
    transport = httpx.ASGITransport(app=_http_app(telemetry))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get(path, headers={"traceparent": traceparent})
            assert response.status_code in {200, 404, 503}
    finally:
        await telemetry.shutdown()
    return [line for line in json_logs() if line["logger"] == "observability.access"]


@pytest.mark.parametrize(
    ("mode", "path", "traceparent", "level"),
    [
        ("sampled", "/fast", SAMPLED_IN, "INFO"),
        ("sampled", "/missing", SAMPLED_IN, "INFO"),
        ("sampled", "/unavailable", SAMPLED_OUT, "ERROR"),
        ("sampled", "/slow", SAMPLED_OUT, "INFO"),
        ("all", "/fast", SAMPLED_OUT, "INFO"),
    ],
)
async def test_an_http_request_the_policy_wants_writes_one_line_in_its_trace(
    json_logs: Callable[[], list[dict[str, Any]]],
    mode: str,
    path: str,
    traceparent: str,
    level: str,
) -> None:
    (line,) = await _http_lines(mode, path, json_logs, traceparent)
    assert (line["http.route"], line["level"]) == (path, level)
    # Sampled or not, the line names the caller's trace.
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    ("mode", "path", "traceparent"),
    [
        ("sampled", "/fast", SAMPLED_OUT),
        # A client error is the caller's: logged when sampled, counted always.
        ("sampled", "/missing", SAMPLED_OUT),
        ("off", "/unavailable", SAMPLED_IN),
        ("off", "/slow", SAMPLED_IN),
    ],
)
async def test_an_http_request_the_policy_does_not_want_writes_nothing_but_is_counted(
    json_logs: Callable[[], list[dict[str, Any]]], mode: str, path: str, traceparent: str
) -> None:
    telemetry = _telemetry(mode)
    transport = httpx.ASGITransport(app=_http_app(telemetry))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get(path, headers={"traceparent": traceparent})
        counted = telemetry.metrics.registry.get_sample_value(
            "http_server_request_duration_seconds_count",
            {"method": "GET", "route": path, "status_class": _status_class(path)},
        )
    finally:
        await telemetry.shutdown()
    assert [line for line in json_logs() if line["logger"] == "observability.access"] == []
    assert counted == 1


def _status_class(path: str) -> str:
    return {"/missing": "4xx", "/unavailable": "5xx"}.get(path, "2xx")


async def _rpc(telemetry: Telemetry, method: str, traceparent: str) -> None:
    async def fast(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b""

    async def slow(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await asyncio.sleep(SLOW_SECONDS)
        return b""

    async def missing(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        raise AssertionError("abort returned")

    async def unavailable(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "try later")
        raise AssertionError("abort returned")

    behaviours = {"Fast": fast, "Slow": slow, "Missing": missing, "Unavailable": unavailable}
    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.v1.Things",
                {
                    name: grpc.unary_unary_rpc_method_handler(behaviour)
                    for name, behaviour in behaviours.items()
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(f"/test.v1.Things/{method}")
            refused = method in {"Missing", "Unavailable"}
            with pytest.raises(grpc.aio.AioRpcError) if refused else contextlib.nullcontext():
                await call(b"", metadata=(("traceparent", traceparent),), timeout=10)
    finally:
        await server.stop(None)


async def _rpc_lines(mode: str, method: str, traceparent: str) -> None:
    telemetry = _telemetry(mode)
    try:
        await _rpc(telemetry, method, traceparent)
    finally:
        await telemetry.shutdown()


@pytest.mark.parametrize(
    ("mode", "method", "traceparent", "expected"),
    [
        ("sampled", "Fast", SAMPLED_IN, [("Fast", "OK", "INFO")]),
        ("sampled", "Missing", SAMPLED_IN, [("Missing", "NOT_FOUND", "INFO")]),
        ("sampled", "Unavailable", SAMPLED_OUT, [("Unavailable", "UNAVAILABLE", "ERROR")]),
        ("sampled", "Slow", SAMPLED_OUT, [("Slow", "OK", "INFO")]),
        ("all", "Fast", SAMPLED_OUT, [("Fast", "OK", "INFO")]),
        ("sampled", "Fast", SAMPLED_OUT, []),
        ("sampled", "Missing", SAMPLED_OUT, []),
        ("off", "Unavailable", SAMPLED_IN, []),
        ("off", "Slow", SAMPLED_IN, []),
    ],
)
async def test_an_rpc_writes_its_line_exactly_when_the_policy_wants_it(
    json_logs: Callable[[], list[dict[str, Any]]],
    mode: str,
    method: str,
    traceparent: str,
    expected: list[tuple[str, str, str]],
) -> None:
    await _rpc_lines(mode, method, traceparent)
    lines = [line for line in json_logs() if line["logger"] == "observability.access"]
    assert [
        (line["rpc.method"], line["rpc.grpc.status_code"], line["level"]) for line in lines
    ] == expected
    assert all(line["trace_id"] == "0af7651916cd43dd8448eb211c80319c" for line in lines)
