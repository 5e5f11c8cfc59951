"""The order service's outbox relay (`order-service relay`, admin 9103) as a process of its own.

Started after the order service, whose component applies the `orders` migrations (the relay
only checks them) and runs with its in-process relay off. Same settings as the service, so it
reaches PostgreSQL and Kafka through the order-postgres and order-kafka proxies; healthy when
its /readyz answers 200: PostgreSQL answers and the relay holds a Kafka connection.
"""

from __future__ import annotations

from threadline_native.components.order import OrderService
from threadline_native.components.service import ServiceComponent
from threadline_native.process import Launch


class OrderRelay(ServiceComponent):
    name = "order-relay"
    port = 9103
    admin_port = port
    executable = OrderService.executable
    scheme = "http"

    @property
    def title(self) -> str:
        return "Threadline order outbox relay"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port} (admin)"

    def service_env(self) -> dict[str, str]:
        """The service's own settings (same stores, same proxies), plus this admin port."""
        return {
            **OrderService(self.context).service_env(),
            "ORDER_RELAY_ADMIN_PORT": str(self.admin_port),
        }

    def prepare(self) -> None:
        """Nothing: the order component migrated the database, and the relay refuses to start
        on an unmigrated one."""

    def launch(self) -> Launch:
        return Launch(argv=[self._executable(), "relay"], env=self._env())
