"""The plugin's telemetry check, through whole pytest sessions run as processes.

Each session runs a small test file in a temporary directory (the plugin loads by its entry
point, as in every package). A test there starts a process that exports over OTLP with
`telemetry_sink.environment()`: when the process leaks a registered password and an email
address the session exits 1 although its test passed, and says where; when it leaks nothing
the session passes and says how much it scanned; a session that never asks for the sink never
starts it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "tr0ub4dor and a horse"

# A service in miniature: the library's setup, one span, one log line, a flush on exit.
SERVICE = """
import logging, os, sys
from observability import ObservabilitySettings, setup

telemetry = setup(ObservabilitySettings(service_name="leaky", admin_enabled=False))
with telemetry.tracer("leaky").start_as_current_span("sign in") as span:
    if sys.argv[1] == "leak":
        span.set_attribute("user.email", "ada@example.com")
        logging.getLogger("leaky").warning("sign-in failed with %s", os.environ["PASSWORD"])
    else:
        logging.getLogger("leaky").warning("sign-in failed")
telemetry.shutdown_sync()
"""

SESSION = f"""
import os, subprocess, sys, threading
from pathlib import Path

from threadline_testing.known_secrets import register_secret


def run_service(telemetry_sink, mode):
    password = register_secret({PASSWORD!r}, "password")
    env = {{**os.environ, **telemetry_sink.environment(), "PASSWORD": password}}
    service = Path(__file__).parent / "service.py"
    subprocess.run([sys.executable, str(service), mode], env=env, check=True, timeout=60)


def test_a_service_that_leaks(telemetry_sink):
    run_service(telemetry_sink, "leak")


def test_a_service_that_does_not(telemetry_sink):
    run_service(telemetry_sink, "clean")


def test_without_services():
    assert "threadline-otlp-sink" not in {{thread.name for thread in threading.enumerate()}}
    assert "threadline_testing.telemetry_sink" not in sys.modules
"""


def run_session(directory: Path, test: str) -> subprocess.CompletedProcess[str]:
    (directory / "service.py").write_text(SERVICE)
    (directory / "test_session.py").write_text(textwrap.dedent(SESSION))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"test_session.py::{test}"],
        cwd=directory,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_leak_fails_the_session_naming_where_but_not_the_value(tmp_path: Path) -> None:
    session = run_session(tmp_path, "test_a_service_that_leaks")
    output = session.stdout + session.stderr

    assert session.returncode == 1, output
    assert "1 passed" in output
    assert "telemetry leaks: the run fails" in output
    started_by = "(started by test_session.py::test_a_service_that_leaks)"
    password = re.search(
        r"- password in log record field body of service 'leaky', trace [0-9a-f]{32}"
        r"(.*): tr0u… \(21 characters\)",
        output,
    )
    assert password is not None, output
    assert started_by in password.group(1)
    assert "- email address in span field attributes['user.email'] of service 'leaky'" in output
    assert PASSWORD not in output
    assert "ada@example.com" not in output


def test_a_clean_session_passes_and_says_what_it_scanned(tmp_path: Path) -> None:
    session = run_session(tmp_path, "test_a_service_that_does_not")
    output = session.stdout + session.stderr

    assert session.returncode == 0, output
    scanned = re.search(r"telemetry check: 0 leak\(s\) in (\d+) spans, (\d+) log records", output)
    assert scanned is not None, output
    assert int(scanned.group(1)) >= 1
    assert int(scanned.group(2)) >= 1


def test_a_session_without_services_never_starts_the_sink(tmp_path: Path) -> None:
    session = run_session(tmp_path, "test_without_services")
    output = session.stdout + session.stderr

    assert session.returncode == 0, output
    assert "telemetry" not in output
