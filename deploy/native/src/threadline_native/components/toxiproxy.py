"""Toxiproxy (for the chaos drills' latency and timeout faults) built from its Go module."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.process import Launch


class Toxiproxy(GoServer):
    name = "toxiproxy"
    port = 8474
    ready_path = "/version"
    startup_timeout = 20.0

    @property
    def title(self) -> str:
        return f"Toxiproxy {self.context.version('TOXIPROXY_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        version = self.context.version("TOXIPROXY_VERSION")
        return GoBuild(
            name="toxiproxy",
            module="github.com/Shopify/toxiproxy/v2",
            version=f"v{version}",
            binaries={"toxiproxy-server": "./cmd/server", "toxiproxy-cli": "./cmd/cli"},
            version_vars={"github.com/Shopify/toxiproxy/v2.Version": version},
        )

    def launch(self) -> Launch:
        # Proxies are created by the drills through the API; none exist at start.
        return Launch(
            argv=[
                str(self.binary("toxiproxy-server")),
                "-host",
                "127.0.0.1",
                "-port",
                str(self.port),
            ]
        )
