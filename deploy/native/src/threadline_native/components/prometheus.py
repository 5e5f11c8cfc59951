"""Prometheus (and promtool) built from the Prometheus Go module, with the compose config."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch

# Flags both modes pass: exemplars kept in memory, and remote write accepted from the collector
# (span metrics) and Tempo (service graph).
PROMETHEUS_FEATURE_FLAGS = (
    "--enable-feature=exemplar-storage",
    "--web.enable-remote-write-receiver",
)


def prometheus_build(module_version: str, version: str) -> GoBuild:
    """Prometheus 3.x is published as module v0.3XX.Y; go.mod has `exclude`, so no go install."""
    return GoBuild(
        name="prometheus",
        module="github.com/prometheus/prometheus",
        version=module_version,
        # Without the `builtinassets` tag the web UI is absent; the API, which is what
        # Grafana and our checks use, is complete.
        binaries={"prometheus": "./cmd/prometheus", "promtool": "./cmd/promtool"},
        version_vars={"github.com/prometheus/common/version.Version": version},
    )


class Prometheus(GoServer):
    name = "prometheus"
    port = 9090
    ready_path = "/-/ready"

    @property
    def title(self) -> str:
        return f"Prometheus {self.context.version('PROMETHEUS_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        return prometheus_build(
            self.context.version("PROMETHEUS_MODULE_VERSION"),
            self.context.version("PROMETHEUS_VERSION"),
        )

    def write_config(self) -> None:
        write_localized(
            self.config_dir / "prometheus.yml",
            self.work_dir / "prometheus.yml",
            paths={"/etc/prometheus/rules": self.config_dir / "rules"},
        )

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary("prometheus")),
                f"--config.file={self.work_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.work_dir / 'data'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                *PROMETHEUS_FEATURE_FLAGS,
            ],
        )
