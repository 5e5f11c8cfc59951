"""In production the order service refuses its development defaults, naming each setting."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from observability.settings import describe_errors
from order_service.settings import Settings

OWN_DATABASE = "postgresql+asyncpg://orders_app:n0t-the-default@db.internal:5432/orders"


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    return describe_errors(caught.value, Settings)


def test_production_settings_with_nothing_left_at_a_default_load() -> None:
    settings = Settings(
        environment="production",
        database_url=SecretStr(OWN_DATABASE),
        admin_host="0.0.0.0",
        admin_token=SecretStr("a-long-random-admin-token"),
    )
    assert settings.is_production


def test_the_compose_database_password_is_refused() -> None:
    message = refusal(environment="production")
    assert "ORDER_DATABASE_URL: its password is the compose default" in message
    assert "threadline@" not in message


def test_an_admin_port_beyond_loopback_without_a_token_is_refused() -> None:
    message = refusal(
        environment="production", database_url=SecretStr(OWN_DATABASE), admin_host="0.0.0.0"
    )
    assert "ORDER_ADMIN_TOKEN: the admin port listens on 0.0.0.0, beyond loopback" in message
    assert "ORDER_DATABASE_URL" not in message


def test_the_defaults_are_refused_all_at_once() -> None:
    message = refusal(environment="production", admin_host="0.0.0.0")
    named = [line.split(":")[0].strip() for line in message.splitlines()[1:]]
    assert message.startswith("ORDER_ENVIRONMENT=production refuses to start")
    assert named == ["ORDER_ADMIN_TOKEN", "ORDER_DATABASE_URL"]


def test_development_starts_with_every_default() -> None:
    assert not Settings(admin_host="0.0.0.0").is_production
