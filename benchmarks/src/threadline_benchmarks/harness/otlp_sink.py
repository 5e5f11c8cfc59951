"""An OTLP/gRPC receiver in its own process that acknowledges and counts, nothing more.

The servers under test export to it over a real socket, so serialisation and the exporter's
network I/O are part of what is measured; the sink itself never parses the payloads.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import grpc

_SERVICES = {
    "opentelemetry.proto.collector.trace.v1.TraceService": "spans",
    "opentelemetry.proto.collector.logs.v1.LogsService": "logs",
}


async def _run(port: int) -> None:
    received = dict.fromkeys(_SERVICES.values(), 0)

    def exporter(kind: str) -> grpc.RpcMethodHandler:
        async def export(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            received[kind] += len(request)
            return b""  # an empty Export*ServiceResponse

        return grpc.unary_unary_rpc_method_handler(export)

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        tuple(
            grpc.method_handlers_generic_handler(service, {"Export": exporter(kind)})
            for service, kind in _SERVICES.items()
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0)
    print(f"otlp sink received {received['spans']} bytes of spans, {received['logs']} of logs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(_run(parser.parse_args().port))


if __name__ == "__main__":
    main()
