"""The Threadline user service (HTTP 8000, admin 9101) as a local process.

`prepare` applies the `users` database migrations; the process then serves HTTP. Its signing
keys live in the state directory (generated on first start). It is healthy when its admin
/readyz answers 200: migrations checked, PostgreSQL reachable, not draining.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from threadline_native.component import Component, StackError
from threadline_native.httpprobe import http_ok
from threadline_native.process import Launch

ADMIN_PORT = 9101


class UserService(Component):
    name = "user"
    port = 8000
    extra_ports = (ADMIN_PORT,)
    startup_timeout = 60.0
    # The service drains in-flight requests within its own grace period (20 s).
    stop_timeout = 30.0

    @property
    def title(self) -> str:
        return "Threadline user service"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port} (admin http://127.0.0.1:{ADMIN_PORT})"

    def healthy(self) -> bool:
        return http_ok(ADMIN_PORT, "/readyz")

    def _executable(self) -> str:
        # Installed into the workspace's virtual environment next to this interpreter.
        beside = Path(sys.executable).parent / "user-service"
        found = str(beside) if beside.exists() else shutil.which("user-service")
        if found is None:
            raise StackError("user-service is not installed; run `make setup`")
        return found

    def _env(self) -> dict[str, str]:
        return {
            "USER_HOST": "127.0.0.1",
            "USER_PORT": str(self.port),
            "USER_ADMIN_HOST": "127.0.0.1",
            "USER_ADMIN_PORT": str(ADMIN_PORT),
            "USER_DATABASE_URL": "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/users",
            "USER_REDIS_URL": "redis://127.0.0.1:6379/0",
            "USER_SIGNING_KEYS_DIR": str(self.layout.data_dir(self.name) / "keys"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
        }

    def prepare(self) -> None:
        result = subprocess.run(
            [self._executable(), "migrate"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **self._env()},
        )
        if result.returncode != 0:
            raise StackError(f"user service migrations failed:\n{result.stderr[-3000:]}")

    def launch(self) -> Launch:
        return Launch(argv=[self._executable(), "serve"], env=self._env())
