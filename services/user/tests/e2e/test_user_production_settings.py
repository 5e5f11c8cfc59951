"""`user-service` as a process: production refuses the defaults; the admin token is enforced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from threadline_testing.known_secrets import register_secret
from threadline_testing.telemetry_sink import TelemetrySink

pytestmark = pytest.mark.e2e


def test_production_with_the_defaults_exits_naming_each_setting_without_a_traceback(
    tmp_path: Path, telemetry_sink: TelemetrySink
) -> None:
    environment = {name: value for name, value in os.environ.items() if "USER_" not in name}
    environment |= telemetry_sink.environment()
    environment |= {"USER_ENVIRONMENT": "production", "USER_ADMIN_HOST": "0.0.0.0"}

    result = subprocess.run(
        [sys.executable, "-m", "user_service.cli", "serve"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    for setting in ("USER_ADMIN_TOKEN", "USER_DATABASE_URL", "USER_SIGNING_KEYS_PEM"):
        assert setting in result.stderr
    assert "Traceback" not in result.stderr
    assert "threadline:threadline" not in result.stderr
    # Refused before anything started: no key was generated, nothing listened.
    assert not (tmp_path / ".threadline").exists()
    assert result.stdout == ""


def test_the_admin_token_guards_metrics_but_not_the_probes(
    migrated_database_url: str, redis_db_url: str, launch_service: Any, tmp_path: Path
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(register_secret("e2e-admin-token", "admin token") + "\n")
    service = launch_service(
        database_url=migrated_database_url,
        redis_url=redis_db_url,
        env={"USER_ADMIN_TOKEN_FILE": str(token_file)},
    )
    admin = service.admin_url

    for probe in ("/healthz", "/readyz", "/startupz"):
        assert httpx.get(f"{admin}{probe}").status_code == 200
    refused = httpx.get(f"{admin}/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{admin}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    scraped = httpx.get(f"{admin}/metrics", headers={"Authorization": "Bearer e2e-admin-token"})
    assert scraped.status_code == 200
    assert "http_server_request_duration_seconds" in scraped.text
    assert "e2e-admin-token" not in service.log()
