"""Redis from Debian's package, with the same configuration file as the compose container."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from threadline_native.component import Component, StackError
from threadline_native.net import redis_ping
from threadline_native.process import Launch


class Redis(Component):
    name = "redis"
    port = 6379
    startup_timeout = 20.0

    @property
    def title(self) -> str:
        return f"Redis {self.context.version('REDIS_VERSION')}"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def healthy(self) -> bool:
        return redis_ping(self.port)

    def _server(self) -> str:
        server = shutil.which("redis-server")
        if server is None:
            raise StackError("redis-server is not installed; run `make setup`")
        return server

    def prepare(self) -> None:
        installed = subprocess.run(
            [self._server(), "--version"], capture_output=True, text=True, check=False
        ).stdout
        match = re.search(r"v=(\S+)", installed)
        pinned = self.context.version("REDIS_VERSION")
        if match and match[1] != pinned:
            print(
                f"note: redis-server {match[1]} is installed; deploy/versions.env pins {pinned}",
                file=sys.stderr,
            )
        self.layout.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def launch(self) -> Launch:
        return Launch(
            argv=[
                self._server(),
                str(self.layout.compose_dir / "redis" / "redis.conf"),
                # What differs from the container: loopback only, and a local working directory.
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--port",
                str(self.port),
                "--dir",
                str(self.layout.data_dir(self.name)),
            ],
        )
