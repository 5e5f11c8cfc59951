"""The user and order services as local processes: for the smoke test and runs without a stack.

Started the way their own end-to-end tests start them: `python -m <service>.cli serve` with
settings in the environment, on ports the caller chooses, logging JSON lines to a file, ready
when the admin port's `/readyz` answers 200. The databases must exist; `migrate` runs first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["LocalService", "ServiceStartError", "start_order_service", "start_user_service"]


class ServiceStartError(RuntimeError):
    """A service exited or did not become ready; the message ends with its log."""


@dataclass
class LocalService:
    name: str
    process: subprocess.Popen[bytes]
    address: str
    admin_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (the services drain), then the exit code; SIGKILL if it will not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=timeout)


def _quiet_telemetry() -> dict[str, str]:
    # No collector needed: the services still continue the load's trace context (their logs
    # carry its trace ids), they just export nothing.
    return {"OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}


def _command(module: str, command: str) -> list[str]:
    # The services' console scripts, without depending on where the scripts were installed.
    script = f"import sys; from {module} import main; sys.exit(main())"
    return [sys.executable, "-c", script, command]


def _migrate(module: str, environment: dict[str, str], log_path: Path) -> None:
    with log_path.open("ab") as log:
        completed = subprocess.run(
            _command(module, "migrate"),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=120,
        )
    if completed.returncode != 0:
        raise ServiceStartError(f"{module} migrate failed:\n{log_path.read_text()[-3000:]}")


def _start(
    name: str,
    module: str,
    environment: dict[str, str],
    *,
    address: str,
    admin_url: str,
    workdir: Path,
    ready_timeout: float,
) -> LocalService:
    log_path = workdir / f"{name}.log"
    _migrate(module, environment, log_path)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            _command(module, "serve"),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    service = LocalService(name, process, address, admin_url, log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(
                f"{name} exited with {process.returncode}:\n{service.log()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{admin_url}/readyz", timeout=1).status_code == 200:
                return service
        time.sleep(0.1)
    service.stop()
    raise ServiceStartError(
        f"{name} was not ready after {ready_timeout:g} s:\n{service.log()[-3000:]}"
    )


def start_user_service(
    *,
    database_url: str,
    redis_url: str,
    port: int,
    admin_port: int,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> LocalService:
    environment = {
        **os.environ,
        **_quiet_telemetry(),
        "USER_HOST": "127.0.0.1",
        "USER_PORT": str(port),
        "USER_ADMIN_HOST": "127.0.0.1",
        "USER_ADMIN_PORT": str(admin_port),
        "USER_DATABASE_URL": database_url,
        "USER_REDIS_URL": redis_url,
        "USER_SIGNING_KEYS_DIR": str(workdir / "user-keys"),
        **(extra_env or {}),
    }
    return _start(
        "user-service",
        "user_service.cli",
        environment,
        address=f"http://127.0.0.1:{port}",
        admin_url=f"http://127.0.0.1:{admin_port}",
        workdir=workdir,
        ready_timeout=ready_timeout,
    )


def start_order_service(
    *,
    database_url: str,
    user_service_url: str,
    kafka_bootstrap: str,
    port: int,
    admin_port: int,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> LocalService:
    environment = {
        **os.environ,
        **_quiet_telemetry(),
        "ORDER_HOST": "127.0.0.1",
        "ORDER_PORT": str(port),
        "ORDER_ADMIN_HOST": "127.0.0.1",
        "ORDER_ADMIN_PORT": str(admin_port),
        "ORDER_DATABASE_URL": database_url,
        "ORDER_USER_SERVICE_URL": user_service_url,
        "ORDER_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        **(extra_env or {}),
    }
    return _start(
        "order-service",
        "order_service.cli",
        environment,
        address=f"127.0.0.1:{port}",
        admin_url=f"http://127.0.0.1:{admin_port}",
        workdir=workdir,
        ready_timeout=ready_timeout,
    )
