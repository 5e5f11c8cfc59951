"""The OpenTelemetry Collector, built with the Collector Builder from the repo's manifest."""

from __future__ import annotations

from pathlib import Path

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import CollectorBuild, GoBuild, ensure_collector
from threadline_native.httpprobe import http_ok
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch

HEALTH_PORT = 13133
METRICS_PORT = 8888


class OtelCollector(GoServer):
    name = "otel-collector"
    port = 4317
    extra_ports = (4318, HEALTH_PORT, METRICS_PORT)
    ready_path = "/"

    @property
    def title(self) -> str:
        return f"OpenTelemetry Collector {self.context.version('OTELCOL_VERSION')} (OCB)"

    @property
    def url(self) -> str:
        return f"grpc://127.0.0.1:{self.port}, http://127.0.0.1:4318"

    @property
    def collector_build(self) -> CollectorBuild:
        return CollectorBuild(
            builder_version=f"v{self.context.version('OTELCOL_VERSION')}",
            manifest=self.layout.root / "deploy" / "native" / "otelcol-builder.yaml",
            binary_name="otelcol-threadline",
        )

    @property
    def go_build(self) -> GoBuild:
        return self.collector_build.builder

    def binary(self, name: str | None = None) -> Path:
        return self.collector_build.binary(self.layout)

    def healthy(self) -> bool:
        # The health_check extension answers on its own port once every pipeline runs.
        return http_ok(HEALTH_PORT, self.ready_path)

    @property
    def native_overlay(self) -> Path:
        """Merged over the shared config: the native pipelines' exporters (no Loki, no Tempo)."""
        return self.layout.root / "deploy" / "native" / "otel-collector.native.yaml"

    def prepare(self) -> None:
        ensure_collector(self.layout, self.collector_build)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        write_localized(self.config_dir / "config.yaml", self.work_dir / "config.yaml")

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary()),
                f"--config={self.work_dir / 'config.yaml'}",
                f"--config={self.native_overlay}",
            ]
        )
