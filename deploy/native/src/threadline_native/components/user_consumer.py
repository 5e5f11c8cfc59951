"""The user service's orders.v1 consumer (`user-service consume`, admin 9104) as a process of
its own.

Started after the user service, whose component applies the `users` migrations (the consumer
only checks them) and runs with its in-process consumer off. Same settings as the service, so it
reaches PostgreSQL, Redis and Kafka through the user-postgres, user-redis and user-kafka
proxies; healthy when its /readyz answers 200: PostgreSQL answers and the consumer is in its
Kafka group.
"""

from __future__ import annotations

from threadline_native.components.service import ServiceComponent
from threadline_native.components.user import UserService
from threadline_native.process import Launch


class UserConsumer(ServiceComponent):
    name = "user-consumer"
    port = 9104
    admin_port = port
    executable = UserService.executable
    scheme = "http"

    @property
    def title(self) -> str:
        return "Threadline user orders.v1 consumer"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port} (admin)"

    def service_env(self) -> dict[str, str]:
        """The service's own settings (same stores, same proxies), plus this admin port."""
        return {
            **UserService(self.context).service_env(),
            "USER_ORDERS_CONSUMER_ADMIN_PORT": str(self.admin_port),
        }

    def prepare(self) -> None:
        """Nothing: the user component migrated the database, and the consumer refuses to start
        on an unmigrated one."""

    def launch(self) -> Launch:
        return Launch(argv=[self._executable(), "consume"], env=self._env())
