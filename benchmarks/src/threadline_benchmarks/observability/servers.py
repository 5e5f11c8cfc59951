"""The processes under test: a trivial FastAPI route and a trivial grpc.aio unary method.

``python -m threadline_benchmarks.observability.servers http|grpc --arm ARM --port N`` (ARM:
bare, library, contrib or native) serves until SIGTERM. The ``library`` arm is set up exactly
as a Threadline service is (``setup`` + ``instrument_app`` / ``server_interceptors``, JSON
logging, admin server, OTLP exporters); the ``contrib`` arm uses the same tracer provider and
exporter with the OpenTelemetry contrib instrumentation instead, and the HTTP ``native`` arm
leaves tracing to FastAPI's built-in OpenTelemetry support. The exporter endpoint, sampler
ratio and admin port come from the usual environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import grpc
import uvicorn
from fastapi import FastAPI

from observability import setup
from observability.fastapi import instrument_app, serve
from observability.grpc import add_health_servicer, server_interceptors

GRPC_SERVICE = "bench.v1.Bench"


def _uvicorn_config(app: Any, port: int) -> uvicorn.Config:
    # The same options `observability.fastapi.serve` passes, so only instrumentation differs.
    return uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )


async def _serve_http(arm: str, port: int) -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    if arm == "library":
        telemetry = setup()
        instrument_app(app, telemetry)
        await serve(app, telemetry, host="127.0.0.1", port=port, lifespan="off")
        return
    if arm == "native":
        # FastAPI's built-in OpenTelemetry support, on by default once a provider is global.
        setup()
    elif arm == "contrib":
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415

        telemetry = setup()
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=telemetry.tracer_provider,
            exclude_spans=["receive", "send"],
            excluded_urls="healthz,readyz,startupz,metrics",
        )
    await uvicorn.Server(_uvicorn_config(app, port)).serve()


async def _ping(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return b"pong"


async def _serve_grpc(arm: str, port: int) -> None:
    interceptors: list[grpc.aio.ServerInterceptor] = []
    telemetry = None
    if arm == "library":
        telemetry = setup()
        interceptors = server_interceptors(telemetry)
    elif arm == "contrib":
        from opentelemetry.instrumentation.grpc import aio_server_interceptor  # noqa: PLC0415

        contrib_telemetry = setup()
        contrib = aio_server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=contrib_telemetry.tracer_provider
        )
        interceptors = [contrib]
    server = grpc.aio.server(interceptors=interceptors)
    handler = grpc.unary_unary_rpc_method_handler(_ping)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(GRPC_SERVICE, {"Ping": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    if telemetry is not None:
        add_health_servicer(server, telemetry)
        await server.start()
        telemetry.lifecycle.on_drain("grpc", server.stop)
        telemetry.mark_started()
        await telemetry.run_until_shutdown()
        return
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["http", "grpc"])
    parser.add_argument("--arm", choices=["bare", "library", "contrib", "native"], required=True)
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    if options.kind == "http":
        asyncio.run(_serve_http(options.arm, options.port))
    else:
        asyncio.run(_serve_grpc(options.arm, options.port))


if __name__ == "__main__":
    main()
