"""What the services' code serves and how long it drains, read from their settings classes.

The manifests must agree with the code: the admin port a probe asks, the paths the admin server
answers, and the time a process needs after SIGTERM. Nothing here is a copy of a number; each
value is the settings field's default unless the container's environment overrides it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from observability.admin import PROBE_PATHS
from observability.settings import ObservabilitySettings
from threadline_k8s.services import IMAGE_PREFIX, service_names

#: The settings field a process serves its admin port on, by its command (the container's first
#: argument) when it is not `admin_port`: the relay and the consumer have fields of their own.
ADMIN_PORT_FIELD_BY_COMMAND: dict[str, str] = {
    "relay": "relay_admin_port",  # order-service relay
    "consume": "orders_consumer_admin_port",  # user-service consume
}
#: The path each probe must ask (any of them for liveness: /healthz and /livez are the same).
PROBE_PATH_BY_KIND: dict[str, frozenset[str]] = {
    "startupProbe": frozenset({"/startupz"}),
    "livenessProbe": frozenset({"/livez", "/healthz"}),
    "readinessProbe": frozenset({"/readyz"}),
}
assert all(paths <= PROBE_PATHS for paths in PROBE_PATH_BY_KIND.values())


def _settings_class(service: str) -> type[ObservabilitySettings]:
    """`<service>_service.settings.Settings`, the class every service (and the template) has."""
    settings = getattr(importlib.import_module(f"{service}_service.settings"), "Settings", None)
    if not (isinstance(settings, type) and issubclass(settings, ObservabilitySettings)):
        raise TypeError(f"{service}_service.settings.Settings is not an ObservabilitySettings")
    return settings


@cache
def settings_by_image() -> dict[str, type[ObservabilitySettings]]:
    """Image name -> the settings class of the service it runs (deploy/services.yaml's)."""
    return {f"{IMAGE_PREFIX}{name}": _settings_class(name) for name in service_names()}


def admin_port_field(container: dict[str, Any]) -> str:
    """The settings field of the admin port this container's process serves."""
    command = (container.get("args") or ["serve"])[0]
    return ADMIN_PORT_FIELD_BY_COMMAND.get(command, "admin_port")


def setting(settings: type[ObservabilitySettings], field: str, env: dict[str, str]) -> Any:
    """The field's value in a process with this environment: the variable, else the default."""
    raw = env.get(settings.env_name(field))
    default = settings.model_fields[field].default
    return type(default)(raw) if raw is not None else default


@dataclass(frozen=True)
class DrainBudget:
    """Seconds a pod needs from deletion to exit: preStop sleep, then the process's shutdown."""

    pre_stop_seconds: float
    shutdown_grace_seconds: float
    telemetry_flush_seconds: float

    @property
    def needed_seconds(self) -> float:
        # The flush gets its own budget after the grace period (observability.lifecycle).
        return self.pre_stop_seconds + self.shutdown_grace_seconds + self.telemetry_flush_seconds


def drain_budget(
    settings: type[ObservabilitySettings], env: dict[str, str], pre_stop_seconds: float
) -> DrainBudget:
    return DrainBudget(
        pre_stop_seconds=pre_stop_seconds,
        shutdown_grace_seconds=float(setting(settings, "shutdown_grace_seconds", env)),
        telemetry_flush_seconds=float(setting(settings, "telemetry_flush_timeout_seconds", env)),
    )
