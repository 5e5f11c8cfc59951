"""Loki built from its Go module, with the compose config."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild, NestedModule
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch

# Loki's go.mod replaces github.com/grafana/loki/pkg/push with ./pkg/push, a nested module the
# release zip leaves out. This is the published pkg/push version the same go.mod requires.
PUSH_MODULE_VERSION = "v0.0.0-20250630054201-94c0ba7b0952"


class Loki(GoServer):
    name = "loki"
    port = 3100
    extra_ports = (9097,)
    ready_path = "/ready"

    @property
    def title(self) -> str:
        return f"Loki {self.context.version('LOKI_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        version = self.context.version("LOKI_VERSION")
        return GoBuild(
            name="loki",
            module="github.com/grafana/loki/v3",
            version=f"v{version}",
            binaries={"loki": "./cmd/loki"},
            version_vars={"github.com/grafana/loki/v3/pkg/util/build.Version": version},
            nested=(
                NestedModule("pkg/push", "github.com/grafana/loki/pkg/push", PUSH_MODULE_VERSION),
            ),
        )

    def write_config(self) -> None:
        write_localized(
            self.config_dir / "loki.yaml",
            self.work_dir / "loki.yaml",
            paths={"/loki": self.work_dir / "data"},
        )

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary()),
                f"-config.file={self.work_dir / 'loki.yaml'}",
                "-server.http-listen-address=127.0.0.1",
                "-target=all",
            ],
        )
