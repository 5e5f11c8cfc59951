"""The Threadline order service (gRPC 50051, admin 9102) as a local process.

`prepare` applies the `orders` database migrations (which seed the product catalog); the
process then serves gRPC and runs the outbox relay. It is healthy when its admin /readyz
answers 200: migrations checked, PostgreSQL reachable, not draining.
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

ADMIN_PORT = 9102


class OrderService(Component):
    name = "order"
    port = 50051
    extra_ports = (ADMIN_PORT,)
    startup_timeout = 60.0
    # The service drains in-flight RPCs and the relay's batch within its own grace period.
    stop_timeout = 30.0

    @property
    def title(self) -> str:
        return "Threadline order service"

    @property
    def url(self) -> str:
        return f"grpc://127.0.0.1:{self.port} (admin http://127.0.0.1:{ADMIN_PORT})"

    def healthy(self) -> bool:
        return http_ok(ADMIN_PORT, "/readyz")

    def _executable(self) -> str:
        # Installed into the workspace's virtual environment next to this interpreter.
        beside = Path(sys.executable).parent / "order-service"
        found = str(beside) if beside.exists() else shutil.which("order-service")
        if found is None:
            raise StackError("order-service is not installed; run `make setup`")
        return found

    def _env(self) -> dict[str, str]:
        return {
            "ORDER_HOST": "127.0.0.1",
            "ORDER_PORT": str(self.port),
            "ORDER_ADMIN_PORT": str(ADMIN_PORT),
            "ORDER_DATABASE_URL": "postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/orders",
            "ORDER_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
            "ORDER_USER_SERVICE_URL": "http://127.0.0.1:8000",
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
            raise StackError(f"order service migrations failed:\n{result.stderr[-3000:]}")

    def launch(self) -> Launch:
        return Launch(argv=[self._executable(), "serve"], env=self._env())
