"""`order-service` as a process: production refuses the defaults, naming each setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from threadline_testing.telemetry_sink import TelemetrySink

pytestmark = pytest.mark.e2e


def test_production_with_the_defaults_exits_naming_each_setting_without_a_traceback(
    tmp_path: Path, telemetry_sink: TelemetrySink
) -> None:
    environment = {name: value for name, value in os.environ.items() if "ORDER_" not in name}
    environment |= telemetry_sink.environment()
    environment |= {"ORDER_ENVIRONMENT": "production", "ORDER_ADMIN_HOST": "0.0.0.0"}

    result = subprocess.run(
        [sys.executable, "-m", "order_service.cli", "serve"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    for setting in ("ORDER_ADMIN_TOKEN", "ORDER_DATABASE_URL"):
        assert setting in result.stderr
    assert "Traceback" not in result.stderr
    assert "threadline:threadline" not in result.stderr
    assert result.stdout == ""
