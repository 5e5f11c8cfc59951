"""gRPC (grpc.aio) integration: server and client interceptors, health that follows readiness.

::

    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    add_health_servicer(server, telemetry, services=["order.v1.OrderService"])
    channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors(telemetry))
"""

from __future__ import annotations

from observability.grpc.client import client_interceptors
from observability.grpc.health import add_health_servicer
from observability.grpc.server import ObservabilityServerInterceptor, server_interceptors

__all__ = [
    "ObservabilityServerInterceptor",
    "add_health_servicer",
    "client_interceptors",
    "server_interceptors",
]
