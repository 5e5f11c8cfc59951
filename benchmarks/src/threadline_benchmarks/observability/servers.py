"""The processes under test: a trivial FastAPI route and a trivial grpc.aio unary method.

``python -m threadline_benchmarks.observability.servers http|grpc --arm ARM --port N`` (ARM:
bare, library, registered, contrib or native) serves until SIGTERM. The ``library`` arm is set
up exactly as a Threadline service is (``setup`` + ``instrument_app`` / ``server_interceptors``,
JSON logging, admin server, OTLP exporters); the gRPC ``registered`` arm is the same library
with the handler wrapped at registration (``observed_handlers``, no interceptor); the
``contrib`` arm uses the same tracer provider and exporter with the OpenTelemetry contrib
instrumentation instead, and the HTTP ``native`` arm
leaves tracing to FastAPI's built-in OpenTelemetry support. The exporter endpoint, sampler
ratio and admin port come from the usual environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TYPE_CHECKING, Any

import grpc
import uvicorn
from fastapi import FastAPI

from observability import setup
from observability.fastapi import instrument_app, serve
from observability.grpc import add_health_servicer, observed_handlers, server_interceptors

if TYPE_CHECKING:
    from observability import Telemetry

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


def _order_wiring(
    telemetry: Telemetry, handlers: dict[str, grpc.RpcMethodHandler], *, registered: bool
) -> tuple[dict[str, grpc.RpcMethodHandler], list[grpc.aio.ServerInterceptor]]:
    """The order service's four call wrappers, at registration or as grpc.aio interceptors."""
    from order_service.api.deadline import DeadlineCeilingInterceptor  # noqa: PLC0415
    from order_service.api.draining import DrainingInterceptor  # noqa: PLC0415
    from order_service.api.errors import map_errors  # noqa: PLC0415
    from order_service.api.unary_interceptor import UnaryWrappingInterceptor  # noqa: PLC0415

    class ErrorMapping(UnaryWrappingInterceptor):
        def wrap(self, behavior: Any) -> Any:
            return map_errors(behavior)

    services = frozenset({GRPC_SERVICE})
    draining = DrainingInterceptor(services)
    ceiling = DeadlineCeilingInterceptor(services, ceiling_seconds=30.0)
    errors = ErrorMapping(services)
    if not registered:
        return handlers, [*server_interceptors(telemetry), draining, ceiling, errors]
    behavior = handlers["Ping"].unary_unary
    for wrapper in (errors, ceiling, draining):
        behavior = wrapper.wrap(behavior)
    wrapped = {"Ping": grpc.unary_unary_rpc_method_handler(behavior)}
    return observed_handlers(telemetry, GRPC_SERVICE, wrapped), []


async def _serve_grpc(arm: str, port: int) -> None:
    interceptors: list[grpc.aio.ServerInterceptor] = []
    telemetry = None
    handlers = {"Ping": grpc.unary_unary_rpc_method_handler(_ping)}
    if arm == "library":
        telemetry = setup()
        interceptors = server_interceptors(telemetry)
    elif arm == "registered":
        telemetry = setup()
        handlers = observed_handlers(telemetry, GRPC_SERVICE, handlers)
    elif arm.startswith("order-"):
        telemetry = setup()
        handlers, interceptors = _order_wiring(
            telemetry, handlers, registered=arm.endswith("registered")
        )
    elif arm == "contrib":
        from opentelemetry.instrumentation.grpc import aio_server_interceptor  # noqa: PLC0415

        contrib_telemetry = setup()
        contrib = aio_server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=contrib_telemetry.tracer_provider
        )
        interceptors = [contrib]
    server = grpc.aio.server(interceptors=interceptors)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(GRPC_SERVICE, handlers),))
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
    parser.add_argument(
        "--arm",
        choices=[
            "bare",
            "library",
            "registered",
            "order-interceptors",
            "order-registered",
            "contrib",
            "native",
        ],
        required=True,
    )
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    if options.kind == "http":
        asyncio.run(_serve_http(options.arm, options.port))
    else:
        asyncio.run(_serve_grpc(options.arm, options.port))


if __name__ == "__main__":
    main()
