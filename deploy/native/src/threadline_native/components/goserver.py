"""What the Go-built backends have in common: a cached build, a localized config, an HTTP probe."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from threadline_native.component import Component
from threadline_native.gobuild import GoBuild, ensure_built
from threadline_native.httpprobe import http_ok


class GoServer(Component):
    """A backend built from its Go module by `prepare()` and probed over HTTP on its port."""

    # Path answering 2xx once the server can take traffic (readiness, not mere liveness).
    ready_path: ClassVar[str]
    # Text the ready response must contain, for servers that answer 200 while still starting.
    ready_text: ClassVar[str | None] = None
    # Most of these start in seconds once built; the first start builds, which prepare() does.
    startup_timeout = 90.0

    @property
    @abstractmethod
    def go_build(self) -> GoBuild:
        """The module, version and binaries this component runs."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def work_dir(self) -> Path:
        return self.layout.data_dir(self.name)

    @property
    def config_dir(self) -> Path:
        """This component's directory under deploy/compose, shared with the compose stack."""
        return self.layout.compose_dir / self.name

    def binary(self, name: str | None = None) -> Path:
        return self.go_build.binary(self.layout, name or next(iter(self.go_build.binaries)))

    def healthy(self) -> bool:
        return http_ok(self.port, self.ready_path, expect=self.ready_text)

    def prepare(self) -> None:
        ensure_built(self.layout, self.go_build)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    def write_config(self) -> None:
        """Write the localized config files the launch command points at."""
