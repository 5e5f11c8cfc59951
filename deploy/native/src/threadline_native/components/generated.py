"""Services made by `make new-service`, as native components: one per entry of
deploy/services.yaml beyond user and order, with the ports recorded there.

`prepare` runs `<name>-service migrate` (which creates the service's database when missing);
the process then serves, healthy when its admin /readyz answers 200.
"""

from __future__ import annotations

from threadline_native.components.service import ServiceComponent
from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import Entry, load_registry


def _component(entry: Entry) -> type[ServiceComponent]:
    prefix = entry.name.upper()

    class GeneratedService(ServiceComponent):
        name = entry.name
        port = entry.port
        admin_port = entry.admin_port
        extra_ports = (entry.admin_port,)
        executable = f"{entry.name.replace('_', '-')}-service"
        scheme = entry.kind

        @property
        def title(self) -> str:
            return f"Threadline {entry.name} service"

        def service_env(self) -> dict[str, str]:
            return {
                f"{prefix}_HOST": "127.0.0.1",
                f"{prefix}_PORT": str(self.port),
                f"{prefix}_ADMIN_HOST": "127.0.0.1",
                f"{prefix}_ADMIN_PORT": str(self.admin_port),
                f"{prefix}_DATABASE_URL": (
                    f"postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/{entry.name}"
                ),
            }

    GeneratedService.__name__ = GeneratedService.__qualname__ = f"{entry.name.title()}Service"
    return GeneratedService


def generated_services() -> tuple[type[ServiceComponent], ...]:
    """A component class per generated service, in the order the registry lists them."""
    return tuple(_component(entry) for entry in load_registry(find_project_root()).generated())
