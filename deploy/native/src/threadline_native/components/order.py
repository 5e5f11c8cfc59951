"""The Threadline order service (gRPC 50051, admin 9102) as a local process.

`prepare` applies the `orders` database migrations (which seed the product catalog); the
process then serves gRPC, with its in-process outbox relay off: the order-relay component runs
the relay as a process of its own. It reaches PostgreSQL, Kafka and the user
service through its Toxiproxy proxies (order-postgres, order-kafka, order-user).
"""

from __future__ import annotations

from threadline_native.components.service import ServiceComponent
from threadline_native.proxies import native_address


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
            "ORDER_DATABASE_URL": (
                f"postgresql+asyncpg://threadline:threadline@{native_address('order-postgres')}"
                "/orders"
            ),
            "ORDER_KAFKA_BOOTSTRAP_SERVERS": native_address("order-kafka"),
            "ORDER_USER_SERVICE_URL": f"http://{native_address('order-user')}",
            # The outbox relay runs as a component of its own (order-relay).
            "ORDER_RELAY_ENABLED": "false",
        }
