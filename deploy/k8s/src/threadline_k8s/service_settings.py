"""What the services' code serves and how long it drains, read from their settings classes.

The manifests must agree with the code: the admin port a probe asks, the paths the admin server
answers, and the time a process needs after SIGTERM. Nothing here is a copy of a number; each
value is the settings field's default unless the container's environment overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observability.admin import PROBE_PATHS
from observability.settings import ObservabilitySettings
from order_service.settings import Settings as OrderSettings
from user_service.settings import Settings as UserSettings

#: Image name -> the settings class of the service it runs.
SETTINGS_BY_IMAGE: dict[str, type[ObservabilitySettings]] = {
    "threadline/user": UserSettings,
    "threadline/order": OrderSettings,
}
#: The path each probe must ask (any of them for liveness: /healthz and /livez are the same).
PROBE_PATH_BY_KIND: dict[str, frozenset[str]] = {
    "startupProbe": frozenset({"/startupz"}),
    "livenessProbe": frozenset({"/livez", "/healthz"}),
    "readinessProbe": frozenset({"/readyz"}),
}
assert all(paths <= PROBE_PATHS for paths in PROBE_PATH_BY_KIND.values())


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
