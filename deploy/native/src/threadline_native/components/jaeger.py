"""Jaeger v2 built from its Go module, with the compose config (in-memory storage).

Natively it is the one trace store: every trace link (exemplars, logs, `make verify`) resolves
here, and its dependencies API (/api/dependencies) is the native service graph.
"""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch


class Jaeger(GoServer):
    name = "jaeger"
    port = 16686
    # OTLP gRPC/HTTP receivers (moved off 4317/4318, the collector's), health check, metrics.
    extra_ports = (4517, 4518, 13134, 8890)
    # The module build has no embedded UI bundle; the query API, which Grafana uses, is complete.
    ready_path = "/api/services"

    @property
    def title(self) -> str:
        return f"Jaeger {self.context.version('JAEGER_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        return GoBuild(
            name="jaeger",
            module="github.com/jaegertracing/jaeger",
            version=self.context.version("JAEGER_MODULE_VERSION"),
            binaries={"jaeger": "./cmd/jaeger"},
            version_vars={
                "github.com/jaegertracing/jaeger/internal/version.latestVersion": (
                    f"v{self.context.version('JAEGER_VERSION')}"
                )
            },
        )

    def write_config(self) -> None:
        write_localized(self.config_dir / "config.yaml", self.work_dir / "config.yaml")

    def launch(self) -> Launch:
        return Launch(argv=[str(self.binary()), f"--config={self.work_dir / 'config.yaml'}"])
