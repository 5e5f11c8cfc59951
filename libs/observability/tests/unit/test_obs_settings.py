"""Settings honour the standard OTEL_* variables and a subclass's own prefix."""

from __future__ import annotations

from typing import ClassVar

import pytest
from opentelemetry.sdk.trace.sampling import ParentBased
from pydantic_settings import SettingsConfigDict

from observability import ObservabilitySettings
from observability.tracing import build_resource, build_sampler


class OrderSettings(ObservabilitySettings):
    model_config = SettingsConfigDict(env_prefix="ORDER_")
    default_service_name: ClassVar[str] = "order"
    admin_port: int = 9102


def test_standard_otel_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=payments, region = eu-1")

    settings = ObservabilitySettings()

    assert settings.service_name == "checkout"
    assert settings.otlp_endpoint == "http://collector:4317"
    assert settings.traces_sampler_ratio == 0.25
    assert settings.sdk_disabled is True
    assert settings.resource_attributes == {"team": "payments", "region": "eu-1"}


def test_a_subclass_names_its_service_and_reads_its_own_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDER_ADMIN_PORT", "19102")
    monkeypatch.setenv("ORDER_LOG_LEVEL", "debug")

    settings = OrderSettings()

    assert (settings.service_name, settings.admin_port, settings.log_level) == (
        "order",
        19102,
        "DEBUG",
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "order-canary")
    assert OrderSettings().service_name == "order-canary"


def test_resource_and_sampler_come_from_settings() -> None:
    settings = ObservabilitySettings(
        service_name="user", service_version="1.2.3", environment="staging"
    )

    attributes = build_resource(settings).attributes
    sampler = build_sampler(settings)

    assert attributes["service.name"] == "user"
    assert attributes["service.version"] == "1.2.3"
    assert attributes["deployment.environment.name"] == "staging"
    assert attributes["service.instance.id"] == settings.service_instance_id
    assert isinstance(sampler, ParentBased)
    assert "0.1" in sampler.get_description()  # type: ignore[no-untyped-call]


def test_an_invalid_ratio_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "2")
    with pytest.raises(ValueError, match="less than or equal to 1"):
        ObservabilitySettings()
