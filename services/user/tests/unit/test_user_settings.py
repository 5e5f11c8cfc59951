"""In production the user service refuses its development defaults, naming each setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from observability.settings import describe_errors
from user_service.adapters.keys import new_signing_key, write_key
from user_service.settings import Settings

OWN_DATABASE = "postgresql+asyncpg://users_app:n0t-the-default@db.internal:5432/users"


def production(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Settings production accepts; each test spoils one of them."""
    keys = tmp_path / "keys"
    write_key(keys, new_signing_key())
    return {
        "environment": "production",
        "database_url": SecretStr(OWN_DATABASE),
        "signing_keys_dir": keys,
        "admin_host": "0.0.0.0",
        "admin_token": SecretStr("a-long-random-admin-token"),
        **overrides,
    }


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    return describe_errors(caught.value, Settings)


def test_production_settings_with_nothing_left_at_a_default_load(tmp_path: Path) -> None:
    assert Settings(**production(tmp_path)).is_production


def test_the_compose_database_password_is_refused(tmp_path: Path) -> None:
    compose = "postgresql+asyncpg://threadline:threadline@postgres:5432/users"
    message = refusal(**production(tmp_path, database_url=SecretStr(compose)))
    assert "USER_DATABASE_URL: its password is the compose default" in message
    assert compose not in message


def test_the_development_key_directory_is_refused(tmp_path: Path) -> None:
    message = refusal(**production(tmp_path, signing_keys_dir=Path(".threadline/state/user/keys")))
    assert "USER_SIGNING_KEYS_PEM: no signing key is configured" in message
    assert "USER_SIGNING_KEYS_DIR is the development key's directory" in message


def test_the_native_stacks_key_directory_is_the_development_one_too(tmp_path: Path) -> None:
    native = tmp_path / "checkout" / ".threadline" / "state" / "user" / "keys"
    write_key(native, new_signing_key())
    assert "USER_SIGNING_KEYS_PEM" in refusal(**production(tmp_path, signing_keys_dir=native))


def test_a_key_directory_without_a_key_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty-keys"
    message = refusal(**production(tmp_path, signing_keys_dir=empty))
    assert f"USER_SIGNING_KEYS_DIR: {empty} holds no signing key" in message
    # Nothing was generated into it while judging.
    assert not empty.exists()


def test_keys_given_as_pem_need_no_directory(tmp_path: Path) -> None:
    pem = SecretStr(new_signing_key().pem().decode())
    settings = Settings(
        **production(
            tmp_path, signing_keys_dir=Path(".threadline/state/user/keys"), signing_keys_pem=[pem]
        )
    )
    assert settings.is_production


def test_an_admin_port_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    message = refusal(**production(tmp_path, admin_token=None))
    assert "USER_ADMIN_TOKEN: the admin port listens on 0.0.0.0, beyond loopback" in message


def test_the_defaults_are_refused_all_at_once(tmp_path: Path) -> None:
    message = refusal(environment="production", admin_host="0.0.0.0")
    named = [line.split(":")[0].strip() for line in message.splitlines()[1:]]
    assert message.startswith("USER_ENVIRONMENT=production refuses to start")
    assert named == ["USER_ADMIN_TOKEN", "USER_DATABASE_URL", "USER_SIGNING_KEYS_PEM"]


def test_development_starts_with_every_default() -> None:
    assert not Settings(admin_host="0.0.0.0").is_production
