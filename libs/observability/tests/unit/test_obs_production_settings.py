"""Production refuses development defaults, naming every offending variable at once."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from observability import ObservabilitySettings
from observability.settings import describe_errors, is_loopback, load_settings


class ShopSettings(ObservabilitySettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")
    default_service_name: ClassVar[str] = "shop"
    api_key: SecretStr = SecretStr("dev-key")

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        if self.api_key.get_secret_value() == "dev-key":
            refusals.append(f"{self.env_name('api_key')}: still the development key")
        return refusals


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        ShopSettings(**values)  # type: ignore[arg-type]
    return describe_errors(caught.value, ShopSettings)


def test_an_admin_port_beyond_loopback_without_a_token_is_refused_in_production() -> None:
    message = refusal(environment="production", admin_host="0.0.0.0")
    assert "SHOP_ENVIRONMENT=production refuses to start" in message
    assert "SHOP_ADMIN_TOKEN: the admin port listens on 0.0.0.0, beyond loopback" in message


def test_every_refusal_is_listed_at_once() -> None:
    lines = refusal(environment="production", admin_host="10.0.0.5").splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "SHOP_ADMIN_TOKEN",
        "SHOP_API_KEY",
    ]


@pytest.mark.parametrize("environment", ["production", "Production", " PROD "])
def test_production_is_recognised_in_any_case(environment: str) -> None:
    assert "SHOP_API_KEY" in refusal(environment=environment)


@pytest.mark.parametrize(
    "values",
    [
        {"admin_host": "127.0.0.1"},
        {"admin_host": "::1"},
        {"admin_host": "localhost"},
        {"admin_host": "0.0.0.0", "admin_token": "a-long-random-token"},
        {"admin_host": "0.0.0.0", "admin_enabled": False},
    ],
)
def test_a_guarded_or_loopback_admin_port_is_accepted_in_production(
    values: dict[str, object],
) -> None:
    settings = ShopSettings(environment="production", api_key=SecretStr("real"), **values)  # type: ignore[arg-type]
    assert settings.is_production


def test_development_keeps_its_defaults() -> None:
    settings = ShopSettings(environment="dev", admin_host="0.0.0.0")
    assert not settings.is_production
    assert settings.admin_token is None


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text("from-a-file\n")
    settings = ShopSettings(admin_token_file=token_file)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "from-a-file"


def test_an_empty_token_or_token_file_means_no_token(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert ShopSettings(admin_token_file=empty).admin_token is None
    assert ShopSettings(admin_token=SecretStr(" ")).admin_token is None
    message = refusal(environment="production", admin_host="0.0.0.0", admin_token_file=empty)
    assert "SHOP_ADMIN_TOKEN:" in message


def test_an_unreadable_token_file_or_two_tokens_are_refused(tmp_path: Path) -> None:
    assert "SHOP_ADMIN_TOKEN_FILE: cannot read" in refusal(admin_token_file=tmp_path / "none")
    token_file = tmp_path / "admin-token"
    token_file.write_text("t")
    assert "both set" in refusal(admin_token="t", admin_token_file=token_file)


def test_load_settings_exits_2_naming_the_variables_and_never_echoing_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOP_ENVIRONMENT", "production")
    monkeypatch.setenv("SHOP_ADMIN_HOST", "0.0.0.0")
    monkeypatch.setenv("SHOP_API_KEY", "dev-key")

    with pytest.raises(SystemExit) as exited:
        load_settings(ShopSettings)

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("shop: invalid settings\n")
    assert "SHOP_ADMIN_TOKEN:" in err
    assert "SHOP_API_KEY:" in err
    assert "dev-key" not in err.replace("development key", "")
    assert "Traceback" not in err


def test_a_field_error_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_ADMIN_PORT", "not-a-port")
    with pytest.raises(ValidationError) as caught:
        ShopSettings()
    message = describe_errors(caught.value, ShopSettings)
    assert message.startswith("SHOP_ADMIN_PORT: ")
    assert "not-a-port" not in message


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.5", False),
        ("admin.internal", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
