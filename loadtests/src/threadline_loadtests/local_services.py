"""The user and order services as local processes: for the smoke test and runs without a stack.

Started the way their own end-to-end tests start them: `<service> serve` with settings in the
environment, on ports the caller chooses, logging JSON lines to a file, ready when the admin
port's `/readyz` answers 200. The databases must exist; `<service> migrate` runs first.
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

__all__ = ["LocalService", "LocalServices", "ServiceStartError", "start_services"]


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


@dataclass
class LocalServices:
    """Both services, as the load test sees them."""

    user: LocalService
    order: LocalService

    def stop(self) -> None:
        # The order service calls the user service: stop it first.
        self.order.stop()
        self.user.stop()


def _quiet_telemetry() -> dict[str, str]:
    # No collector needed: the services still continue the load's trace context (their logs
    # carry its trace ids), they just export nothing.
    return {"OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}


def _command(module: str, command: str) -> list[str]:
    # The services' console scripts, without depending on where the scripts were installed.
    script = f"import sys; from {module} import main; sys.exit(main())"
    return [sys.executable, "-c", script, command]


@dataclass(frozen=True)
class _Spec:
    name: str
    module: str
    environment: dict[str, str]
    address: str
    admin_url: str


def _launch(spec: _Spec, command: str, workdir: Path) -> subprocess.Popen[bytes]:
    with (workdir / f"{spec.name}.log").open("ab") as log:
        return subprocess.Popen(
            _command(spec.module, command),
            env=spec.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )


def _migrate_all(specs: list[_Spec], workdir: Path) -> None:
    # Side by side: most of a migration's time is the interpreter importing the service.
    migrations = [(spec, _launch(spec, "migrate", workdir)) for spec in specs]
    for spec, process in migrations:
        if process.wait(timeout=120) != 0:
            log = (workdir / f"{spec.name}.log").read_text(errors="replace")
            raise ServiceStartError(f"{spec.name} migrate failed:\n{log[-3000:]}")


def _wait_ready(service: LocalService, deadline: float) -> None:
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise ServiceStartError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{service.admin_url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise ServiceStartError(f"{service.name} was not ready in time:\n{service.log()[-3000:]}")


def start_services(
    *,
    user_database_url: str,
    orders_database_url: str,
    redis_url: str,
    ports: tuple[int, int, int, int],
    workdir: Path,
    user_env: dict[str, str] | None = None,
    order_env: dict[str, str] | None = None,
    ready_timeout: float = 90.0,
) -> LocalServices:
    """Migrate both databases, start both services, wait until both are ready.

    `ports`: user API, user admin, order gRPC, order admin.
    """
    user_port, user_admin_port, order_port, order_admin_port = ports
    user_url = f"http://127.0.0.1:{user_port}"
    user = _Spec(
        "user-service",
        "user_service.cli",
        {
            **os.environ,
            **_quiet_telemetry(),
            "USER_HOST": "127.0.0.1",
            "USER_PORT": str(user_port),
            "USER_ADMIN_HOST": "127.0.0.1",
            "USER_ADMIN_PORT": str(user_admin_port),
            "USER_DATABASE_URL": user_database_url,
            "USER_REDIS_URL": redis_url,
            "USER_SIGNING_KEYS_DIR": str(workdir / "user-keys"),
            **(user_env or {}),
        },
        user_url,
        f"http://127.0.0.1:{user_admin_port}",
    )
    order = _Spec(
        "order-service",
        "order_service.cli",
        {
            **os.environ,
            **_quiet_telemetry(),
            "ORDER_HOST": "127.0.0.1",
            "ORDER_PORT": str(order_port),
            "ORDER_ADMIN_HOST": "127.0.0.1",
            "ORDER_ADMIN_PORT": str(order_admin_port),
            "ORDER_DATABASE_URL": orders_database_url,
            "ORDER_USER_SERVICE_URL": user_url,
            **(order_env or {}),
        },
        f"127.0.0.1:{order_port}",
        f"http://127.0.0.1:{order_admin_port}",
    )
    _migrate_all([user, order], workdir)
    started = [
        LocalService(
            spec.name,
            _launch(spec, "serve", workdir),
            spec.address,
            spec.admin_url,
            workdir / f"{spec.name}.log",
        )
        for spec in (user, order)
    ]
    services = LocalServices(*started)
    deadline = time.monotonic() + ready_timeout
    try:
        for service in started:
            _wait_ready(service, deadline)
    except BaseException:
        services.stop()
        raise
    return services
