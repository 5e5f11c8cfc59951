"""The Threadline user service (HTTP 8000, admin 9101) as a local process.

`prepare` applies the `users` database migrations; the process then serves HTTP, with its
in-process orders.v1 consumer off: the user-consumer component runs it as a process of its own.
Its signing keys live in the state directory (generated on first start). It reaches PostgreSQL,
Redis and Kafka through its Toxiproxy proxies (user-postgres, user-redis, user-kafka);
migrations too, so `prepare` fails early and clearly when a proxy is missing.
"""

from __future__ import annotations

from threadline_native.components.service import ServiceComponent
from threadline_native.proxies import native_address


class UserService(ServiceComponent):
    name = "user"
    port = 8000
    admin_port = 9101
    extra_ports = (admin_port,)
    executable = "user-service"
    scheme = "http"

    @property
    def title(self) -> str:
        return "Threadline user service"

    def service_env(self) -> dict[str, str]:
        return {
            "USER_HOST": "127.0.0.1",
            "USER_PORT": str(self.port),
            "USER_ADMIN_HOST": "127.0.0.1",
            "USER_ADMIN_PORT": str(self.admin_port),
            "USER_DATABASE_URL": (
                f"postgresql+asyncpg://threadline:threadline@{native_address('user-postgres')}/users"
            ),
            "USER_REDIS_URL": f"redis://{native_address('user-redis')}/0",
            "USER_KAFKA_BOOTSTRAP_SERVERS": native_address("user-kafka"),
            "USER_SIGNING_KEYS_DIR": str(self.layout.data_dir(self.name) / "keys"),
            # The orders.v1 consumer runs as a component of its own (user-consumer).
            "USER_ORDERS_CONSUMER_ENABLED": "false",
        }
