"""The Threadline order service (gRPC 50051, admin 9102) as a local process.

`prepare` applies the `orders` database migrations (which seed the product catalog); the
process then serves gRPC and runs the outbox relay.
"""

from __future__ import annotations

from threadline_native.components.service import ServiceComponent


class OrderService(ServiceComponent):
    name = "order"
    port = 50051
    admin_port = 9102
    extra_ports = (admin_port,)
    executable = "order-service"
    scheme = "grpc"

    @property
    def title(self) -> str:
        return "Threadline order service"

    def service_env(self) -> dict[str, str]:
        return {
            "ORDER_HOST": "127.0.0.1",
            "ORDER_PORT": str(self.port),
            "ORDER_ADMIN_PORT": str(self.admin_port),
            "ORDER_DATABASE_URL": "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/orders",
            "ORDER_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
            "ORDER_USER_SERVICE_URL": "http://127.0.0.1:8000",
        }
