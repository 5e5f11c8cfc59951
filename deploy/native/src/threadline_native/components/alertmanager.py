"""Alertmanager built from its Go module, with the compose config."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch


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
