"""Settings for the observability library, read from the environment.

The standard OpenTelemetry variables (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_TRACES_SAMPLER``, ``OTEL_TRACES_SAMPLER_ARG``, ``OTEL_SDK_DISABLED``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_EXPORTER``, ``OTEL_LOGS_EXPORTER``) are honoured under
their own names; everything else takes the class's ``env_prefix`` (``OBS_`` here, ``USER_`` or
``ORDER_`` in a service that subclasses this class).

With ``environment`` set to ``production`` (or ``prod``) the settings refuse to load while
anything is left at a development default (`ObservabilitySettings.production_refusals`, which a
service extends), naming every offending variable at once; `load_settings` turns that, and any
other invalid value, into a short message on stderr and exit status 2.

With ``<PREFIX>ENV_FILE`` naming a dotenv file (``USER_ENV_FILE=/etc/threadline/user.env``),
its lines are settings too, and they win over the same variables in the environment: the file
is the one place a *running* process's settings can be changed, and SIGHUP re-reads it
(`observability.runtime_controls`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from observability.access_policy import DEFAULT_LATENCY_OBJECTIVE_SECONDS, AccessLogMode

__all__ = [
    "LOG_LEVELS",
    "PRODUCTION_ENVIRONMENTS",
    "ObservabilitySettings",
    "describe_errors",
    "load_settings",
]

#: Values of ``environment`` under which development defaults are refused.
PRODUCTION_ENVIRONMENTS: Final = frozenset({"production", "prod"})

SamplerName = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]
ExporterName = Literal["otlp", "console", "none"]
# The on/off spellings OBS_ACCESS_LOG took before it named a mode.
_ACCESS_LOG_SWITCH: Final = {
    **dict.fromkeys(("true", "1", "yes", "on"), AccessLogMode.SAMPLED),
    **dict.fromkeys(("false", "0", "no"), AccessLogMode.OFF),
}
#: The levels ``log_level`` (and PUT /admin/log-level) accept.
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _otel(name: str, field: str) -> AliasChoices:
    # The OTel name wins; the field name keeps keyword construction working.
    return AliasChoices(name, field)


def _default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def is_loopback(host: str) -> bool:
    """Whether a listener on ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        # "", "0.0.0.0"'s spellings and host names: assume the listener is reachable.
        return False


class ObservabilitySettings(BaseSettings):
    """Everything `observability.setup` needs; subclass it to add a service's own settings.

    A subclass names its default service with the class variable ``default_service_name``
    (``OTEL_SERVICE_NAME`` still overrides it) and usually its own ``env_prefix``::

        class Settings(ObservabilitySettings):
            model_config = SettingsConfigDict(env_prefix="USER_")
            default_service_name: ClassVar[str] = "user"
    """

    model_config = SettingsConfigDict(
        env_prefix="OBS_", extra="ignore", populate_by_name=True, frozen=True
    )

    default_service_name: ClassVar[str] = "unknown_service"

    service_name: str = Field(
        default="", validation_alias=_otel("OTEL_SERVICE_NAME", "service_name")
    )
    service_version: str = "0.0.0"
    environment: str = "dev"
    service_instance_id: str = Field(default_factory=_default_instance_id)
    # NoDecode: the variable is OTel's key=value list, not JSON.
    resource_attributes: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        validation_alias=_otel("OTEL_RESOURCE_ATTRIBUTES", "resource_attributes"),
    )
    sdk_disabled: bool = Field(
        default=False, validation_alias=_otel("OTEL_SDK_DISABLED", "sdk_disabled")
    )

    # Tracing
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4317",
        validation_alias=_otel("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    traces_exporter: ExporterName = Field(
        default="otlp", validation_alias=_otel("OTEL_TRACES_EXPORTER", "traces_exporter")
    )
    traces_sampler: SamplerName = Field(
        default="parentbased_traceidratio",
        validation_alias=_otel("OTEL_TRACES_SAMPLER", "traces_sampler"),
    )
    traces_sampler_ratio: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        validation_alias=_otel("OTEL_TRACES_SAMPLER_ARG", "traces_sampler_ratio"),
    )

    # Logs
    logs_exporter: ExporterName = Field(
        default="otlp", validation_alias=_otel("OTEL_LOGS_EXPORTER", "logs_exporter")
    )
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Which requests/RPCs write an `observability.access` line (observability.access_policy):
    # `sampled` those whose trace is sampled, those that fail and those slower than
    # `latency_objective_seconds`, so each stored trace and each error finds its service's line;
    # `all`; `off`. The older `true`/`false` still read as `sampled`/`off`.
    access_log: AccessLogMode = AccessLogMode.SAMPLED
    # The latency SLO's threshold (a service sets its own: deploy/compose/prometheus/rules).
    latency_objective_seconds: float = Field(default=DEFAULT_LATENCY_OBJECTIVE_SECONDS, gt=0)

    # Fault flags (observability.faults): on, except in production, where only this turns them
    # on. Read at start-up only.
    faults_enabled: bool | None = None

    # Metrics and the admin server
    metrics_enabled: bool = True
    admin_enabled: bool = True
    admin_host: str = "0.0.0.0"
    admin_port: int = Field(default=9100, ge=0, le=65535)
    # When set, every admin path but the probes (/healthz, /livez, /readyz, /startupz) asks for
    # `Authorization: Bearer <token>`. Empty: nothing is asked.
    admin_token: SecretStr | None = None
    # Or the token as a file's content (a mounted secret, the file Prometheus reads as well).
    admin_token_file: Path | None = None
    health_check_timeout_seconds: float = Field(default=1.0, gt=0)
    health_cache_seconds: float = Field(default=1.0, ge=0)

    # A dotenv file whose values win over the environment's; SIGHUP re-reads it. The settings
    # sources read it (`settings_customise_sources`); the field is here to be shown and checked.
    env_file: Path | None = None

    # Lifecycle
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    shutdown_drain_delay_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Time between readiness turning false and the first drain step, so a load "
        "balancer can stop routing here before listeners close (5s is typical on Kubernetes).",
    )
    telemetry_flush_timeout_seconds: float = Field(default=5.0, gt=0)
    gc_freeze: bool = Field(
        default=True,
        description="At `Telemetry.mark_started`, collect once and freeze every object alive "
        "(gc.freeze), so later full collections skip the start-up heap.",
    )

    @field_validator("resource_attributes", mode="before")
    @classmethod
    def _parse_resource_attributes(cls, value: Any) -> Any:
        """Accept the ``key=value,key=value`` form of ``OTEL_RESOURCE_ATTRIBUTES``."""
        if not isinstance(value, str):
            return value
        pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
        return {key.strip(): raw.strip() for key, raw in pairs if key.strip()}

    @field_validator(
        "traces_sampler", "traces_exporter", "logs_exporter", "log_format", mode="before"
    )
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("access_log", mode="before")
    @classmethod
    def _access_log_mode(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return AccessLogMode.SAMPLED if value else AccessLogMode.OFF
        if isinstance(value, str):
            value = value.strip().lower()
            return _ACCESS_LOG_SWITCH.get(value, value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("env_file")
    @classmethod
    def _readable_env_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The env file named by ``<PREFIX>ENV_FILE``, when set, ahead of the environment."""
        env_file = os.environ.get(cls.env_name("env_file"), "").strip()
        if not env_file:
            return init_settings, env_settings, dotenv_settings, file_secret_settings
        from_file = DotEnvSettingsSource(settings_cls, env_file=env_file)
        return init_settings, from_file, env_settings, file_secret_settings

    @model_validator(mode="after")
    def _fill_service_name(self) -> ObservabilitySettings:
        if not self.service_name:
            # Frozen model: bypass the guard once, during validation, for the derived default.
            object.__setattr__(self, "service_name", self.default_service_name)
        return self

    @model_validator(mode="after")
    def _read_admin_token(self) -> ObservabilitySettings:
        token = self.admin_token.get_secret_value().strip() if self.admin_token else ""
        if token and self.admin_token_file is not None:
            raise ValueError(
                f"{self.env_name('admin_token')} and {self.env_name('admin_token_file')} are "
                "both set; set one"
            )
        if self.admin_token_file is not None:
            try:
                token = self.admin_token_file.read_text().strip()
            except OSError as error:
                raise ValueError(
                    f"{self.env_name('admin_token_file')}: cannot read {self.admin_token_file} "
                    f"({error.strerror})"
                ) from None
        object.__setattr__(self, "admin_token", SecretStr(token) if token else None)
        return self

    # Declared after the validators above, so it judges the values they settled.
    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> ObservabilitySettings:
        if not self.is_production:
            return self
        refusals = self.production_refusals()
        if refusals:
            raise ValueError(
                f"{self.env_name('environment')}={self.environment} refuses to start with "
                "development defaults:\n" + "\n".join(f"  {line}" for line in refusals)
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment.strip().lower() in PRODUCTION_ENVIRONMENTS

    @property
    def fault_injection_allowed(self) -> bool:
        """``faults_enabled`` when set; otherwise on everywhere but in production."""
        if self.faults_enabled is not None:
            return self.faults_enabled
        return not self.is_production

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets ``field``: ``env_name("admin_token")`` is
        ``USER_ADMIN_TOKEN`` in the user service."""
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    def production_refusals(self) -> list[str]:
        """What production must not run with, one line each, naming its variable.

        A service extends the list (``[*super().production_refusals(), ...]``) with its own
        development defaults: the compose database password, a generated signing key.
        """
        refusals = []
        if self.admin_enabled and not is_loopback(self.admin_host) and self.admin_token is None:
            refusals.append(
                f"{self.env_name('admin_token')}: the admin port listens on "
                f"{self.admin_host or 'every interface'}, beyond loopback, and asks for no token "
                f"(set {self.env_name('admin_token')} or {self.env_name('admin_token_file')}, "
                f"or {self.env_name('admin_host')}=127.0.0.1)"
            )
        return refusals


SettingsT = TypeVar("SettingsT", bound=ObservabilitySettings)


def describe_errors(error: ValidationError, settings_class: type[ObservabilitySettings]) -> str:
    """One line per invalid setting, named by its environment variable, never with its value.

    Pydantic's own text repeats the input, which holds secrets (database URLs, keys).
    """
    lines = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = item["msg"].removeprefix("Value error, ")
        location = [str(part) for part in item["loc"]]
        if not location:
            lines.append(message)
            continue
        # An alias (OTEL_TRACES_SAMPLER_ARG) is already the variable's name.
        name = location[0] if location[0].isupper() else settings_class.env_name(location[0])
        lines.append(f"{'.'.join([name, *location[1:]])}: {message}")
    return "\n".join(lines)


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """The settings from the environment, or exit status 2 with what is wrong on stderr.

    For a command line's start: no traceback, and no value echoed back.
    """
    try:
        return settings_class()
    except ValidationError as error:
        print(
            f"{settings_class.default_service_name}: invalid settings\n"
            + describe_errors(error, settings_class),
            file=sys.stderr,
        )
        raise SystemExit(2) from None
