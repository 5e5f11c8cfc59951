"""gRPC (grpc.aio) integration: server and client interceptors, health that follows readiness.

::

    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    # or, cheaper per call, the handlers wrapped at registration and no interceptor:
    handlers = observed_handlers(telemetry, "order.v1.OrderService", handlers)
    add_health_servicer(server, telemetry, services=["order.v1.OrderService"])
    channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors(telemetry))
"""

from __future__ import annotations

from observability.grpc.client import client_interceptors
from observability.grpc.health import add_health_servicer
from observability.grpc.registered import observed_handlers
from observability.grpc.server import ObservabilityServerInterceptor, server_interceptors

__all__ = [
    "ObservabilityServerInterceptor",
    "add_health_servicer",
    "client_interceptors",
    "observed_handlers",
    "server_interceptors",
]
