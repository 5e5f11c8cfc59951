"""Runtime controls: the log level and the trace sampling ratio, changed without a restart.

Two ways in, one behaviour: the admin port (PUT /admin/log-level, PUT /admin/sampling, through
`observability.admin_routes`) and SIGHUP, which re-reads the settings (the environment and the
``<PREFIX>ENV_FILE`` file, which wins over it: `observability.settings`) and applies what
changed. Each change is an audit line with the old and the new value (`observability.changes`);
a bad value is refused with a reason naming the field and the old value stays.

SIGHUP makes the process match its configuration again: a level set over the admin port is
replaced by the file's on the next SIGHUP when the two differ. Settings that only take effect
at start-up are named in a WARNING when SIGHUP finds them changed, and left as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from observability.changes import Actor, log_change
from observability.sampling import validate_ratio
from observability.settings import LOG_LEVELS, ObservabilitySettings, describe_errors
from observability.tracing import samples_by_ratio

if TYPE_CHECKING:
    from observability.sampling import AdjustableRatioSampler

__all__ = ["InvalidControlError", "RuntimeControls", "SamplingNotAdjustableError"]

_log = logging.getLogger(__name__)
#: The library's own loggers follow the level set here, besides the root logger.
LIBRARY_LOGGER = "observability"
#: Fields applied while the process runs; the rest need a restart.
_RUNTIME_FIELDS = frozenset({"log_level", "traces_sampler_ratio"})
# Differs on every read by construction (a fresh id per process start).
_UNCOMPARED_FIELDS = frozenset({"service_instance_id"})


class InvalidControlError(ValueError):
    """A control's new value is refused; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


class SamplingNotAdjustableError(RuntimeError):
    """The configured sampler takes no ratio (``always_on``, ``parentbased_always_off``, ...)."""


class RuntimeControls:
    """Reads and changes the log level and the sampling ratio; `reload` answers SIGHUP."""

    def __init__(
        self,
        *,
        settings: ObservabilitySettings,
        ratio_sampler: AdjustableRatioSampler,
        read_settings: Callable[[], ObservabilitySettings] | None = None,
    ) -> None:
        self._settings = settings
        # The sampler is chosen at start-up only: whether it takes a ratio never changes.
        self._started_with = settings
        self._ratio_sampler = ratio_sampler
        # The settings class itself reads the environment and the env file again.
        self._read_settings = read_settings or type(settings)

    # Log level -----------------------------------------------------------------------------

    @property
    def log_level(self) -> str:
        return logging.getLevelName(logging.getLogger().getEffectiveLevel())

    def set_log_level(self, level: Any, *, actor: Actor) -> str:
        """Set the root's and the library's level; return the level it replaced."""
        name = level.strip().upper() if isinstance(level, str) else None
        if name not in LOG_LEVELS:
            raise InvalidControlError("level", f"expected one of {', '.join(LOG_LEVELS)}")
        previous = self.log_level
        logging.getLogger().setLevel(name)
        logging.getLogger(LIBRARY_LOGGER).setLevel(name)
        log_change("log level changed", actor=actor, what="log_level", old=previous, new=name)
        return previous

    # Sampling ------------------------------------------------------------------------------

    @property
    def sampling(self) -> dict[str, Any]:
        return {
            "sampler": self._started_with.traces_sampler,
            "ratio": self._ratio_sampler.ratio,
            "adjustable": samples_by_ratio(self._started_with),
        }

    def set_sampling_ratio(self, ratio: Any, *, actor: Actor) -> float:
        """Sample ``ratio`` of new root traces from now on; return the ratio it replaced."""
        if not samples_by_ratio(self._started_with):
            raise SamplingNotAdjustableError(
                f"the sampler is {self._started_with.traces_sampler}, which takes no ratio "
                "(start the process with OTEL_TRACES_SAMPLER=parentbased_traceidratio or "
                "traceidratio to adjust it)"
            )
        try:
            new = validate_ratio(ratio)
        except ValueError as error:
            raise InvalidControlError("ratio", str(error)) from None
        previous = self._ratio_sampler.set_ratio(new)
        log_change(
            "sampling ratio changed",
            actor=actor,
            what="traces_sampler_ratio",
            old=previous,
            new=new,
        )
        return previous

    # SIGHUP --------------------------------------------------------------------------------

    def reload(self, actor: Actor | None = None) -> bool:
        """Re-read the settings and apply the runtime ones that changed; False if refused."""
        actor = actor or Actor.signal("SIGHUP")
        settings_class = type(self._settings)
        try:
            fresh = self._read_settings()
        except ValidationError as error:
            _log.error(  # no traceback: it would repeat the values
                "settings not reloaded: invalid; every old value is kept",
                extra={"reload.errors": describe_errors(error, settings_class).splitlines()},
            )
            return False
        except ValueError as error:
            _log.error("settings not reloaded: %s; every old value is kept", error)
            return False
        if fresh.log_level != self.log_level:
            self.set_log_level(fresh.log_level, actor=actor)
        if (
            samples_by_ratio(self._started_with)
            and fresh.traces_sampler_ratio != self._ratio_sampler.ratio
        ):
            self.set_sampling_ratio(fresh.traces_sampler_ratio, actor=actor)
        self._warn_restart_only(fresh)
        self._settings = fresh
        _log.info("settings reloaded", extra={"change.actor": actor.name})
        return True

    def _warn_restart_only(self, fresh: ObservabilitySettings) -> None:
        skipped = _RUNTIME_FIELDS | _UNCOMPARED_FIELDS
        changed = sorted(
            type(fresh).env_name(name)
            for name in type(fresh).model_fields
            if name not in skipped and getattr(fresh, name) != getattr(self._settings, name)
        )
        if changed:
            # Names only: the values may be secrets (a database URL, a key).
            _log.warning(
                "settings changed that take effect only on restart; they are left as they were",
                extra={"reload.restart_required": changed},
            )
