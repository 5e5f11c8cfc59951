"""Alertmanager built from its Go module, with the compose config."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch

UI_PLACEHOLDER = (
    "<!doctype html><title>Alertmanager</title><p>This Alertmanager was built from its Go module"
    " without the web UI. The API is at <a href=/api/v2/alerts>/api/v2/alerts</a>; Grafana shows"
    " alerts too.</p>\n"
)


class Alertmanager(GoServer):
    name = "alertmanager"
    port = 9093
    ready_path = "/-/ready"

    @property
    def title(self) -> str:
        return f"Alertmanager {self.context.version('ALERTMANAGER_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        version = self.context.version("ALERTMANAGER_VERSION")
        return GoBuild(
            name="alertmanager",
            module="github.com/prometheus/alertmanager",
            version=f"v{version}",
            binaries={"alertmanager": "./cmd/alertmanager", "amtool": "./cmd/amtool"},
            version_vars={"github.com/prometheus/common/version.Version": version},
            # The web UI is built with npm and embedded from ui/app/dist, which the module zip
            # leaves out; a placeholder page keeps the embed valid. The API is complete.
            placeholders={"ui/app/dist/index.html": UI_PLACEHOLDER},
        )

    def write_config(self) -> None:
        write_localized(self.config_dir / "alertmanager.yml", self.work_dir / "alertmanager.yml")

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary("alertmanager")),
                f"--config.file={self.work_dir / 'alertmanager.yml'}",
                f"--storage.path={self.work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # A single instance: no gossip cluster, whose default port 9094 is Kafka's
                # controller port here.
                "--cluster.listen-address=",
            ],
        )
