"""Tempo built from its Go module at a commit pseudo-version, with the compose config."""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.localconfig import write_localized
from threadline_native.process import Launch

# Tempo's module path has no /v2 suffix, so its v2 tags cannot be fetched as module versions.
# The pinned version is a commit pseudo-version, published after the checksum database mirror
# we can reach was filled: it is fetched unverified (GONOSUMDB for this one module).
TEMPO_MODULE = "github.com/grafana/tempo"


class Tempo(GoServer):
    name = "tempo"
    port = 3200
    # gRPC server, and the OTLP receiver the collector exports to.
    extra_ports = (9096, 4417)
    ready_path = "/ready"
    # Tempo's /ready answers 503 for its first ~15 s (ingester ring join delay).
    startup_timeout = 120.0

    @property
    def title(self) -> str:
        return f"Tempo {self.context.version('TEMPO_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        return GoBuild(
            name="tempo",
            module=TEMPO_MODULE,
            version=self.context.version("TEMPO_MODULE_VERSION"),
            binaries={"tempo": "./cmd/tempo"},
            version_vars={"main.Version": self.context.version("TEMPO_VERSION")},
            unverified=(TEMPO_MODULE,),
        )

    def write_config(self) -> None:
        write_localized(
            self.config_dir / "tempo.yaml",
            self.work_dir / "tempo.yaml",
            paths={"/var/tempo": self.work_dir / "data"},
        )

    def launch(self) -> Launch:
        # Listen addresses come from tempo.yaml (0.0.0.0 there becomes loopback here).
        return Launch(argv=[str(self.binary()), f"-config.file={self.work_dir / 'tempo.yaml'}"])
