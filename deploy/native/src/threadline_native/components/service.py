"""What Threadline's own services share as native components: a workspace executable whose
`migrate` runs in `prepare` and whose `serve` is the process, healthy when its admin /readyz
answers 200 (migrations checked, dependencies reachable, not draining).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from threadline_native.component import Component, StackError
from threadline_native.httpprobe import http_ok
from threadline_native.process import Launch


class ServiceComponent(Component):
    """One of the project's services, run from the executable the workspace installs."""

    executable: ClassVar[str]
    admin_port: ClassVar[int]
    scheme: ClassVar[str]
    startup_timeout = 60.0
    # The services drain in-flight work within their own grace period (20 s).
    stop_timeout = 30.0

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port} (admin http://127.0.0.1:{self.admin_port})"

    def healthy(self) -> bool:
        return http_ok(self.admin_port, "/readyz")

    @abstractmethod
    def service_env(self) -> dict[str, str]:
        """The service's settings for the native stack's addresses."""

    def _env(self) -> dict[str, str]:
        return {**self.service_env(), "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}

    def _executable(self) -> str:
        # Installed into the workspace's virtual environment next to this interpreter.
        beside = Path(sys.executable).parent / self.executable
        found = str(beside) if beside.exists() else shutil.which(self.executable)
        if found is None:
            raise StackError(f"{self.executable} is not installed; run `make setup`")
        return found

    def prepare(self) -> None:
        result = subprocess.run(
            [self._executable(), "migrate"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **self._env()},
        )
        if result.returncode != 0:
            raise StackError(f"{self.title} migrations failed:\n{result.stderr[-3000:]}")

    def launch(self) -> Launch:
        return Launch(argv=[self._executable(), "serve"], env=self._env())
