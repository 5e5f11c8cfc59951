"""The SLO rules, Prometheus and Alertmanager configs, checked by the tools of the pinned versions.

promtool and amtool are built from their Go modules (once; cached under .threadline/cache), so a
cold cache makes the first run take minutes and every later one about a second.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from threadline_native.component import Context
from threadline_native.components.alertmanager import Alertmanager
from threadline_native.components.prometheus import Prometheus
from threadline_native.gobuild import ensure_built
from threadline_native.localconfig import write_localized
from threadline_native.stack import load_context

# A cold cache builds Prometheus and Alertmanager first (minutes on two cores); later runs reuse
# the cached binaries and finish in about a second.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def context() -> Context:
    return load_context()


@pytest.fixture(scope="module")
def promtool(context: Context) -> Path:
    prometheus = Prometheus(context)
    ensure_built(context.layout, prometheus.go_build)
    return prometheus.binary("promtool")


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def test_slo_rules_page_ticket_and_stay_quiet_as_specified(
    promtool: Path, context: Context
) -> None:
    rules = context.layout.compose_dir / "prometheus" / "rules"
    result = run([str(promtool), "test", "rules", "slo.test.yml"], cwd=rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_slo_rules_are_valid_rule_files(promtool: Path, context: Context) -> None:
    rules = context.layout.compose_dir / "prometheus" / "rules" / "slo.rules.yml"
    result = run([str(promtool), "check", "rules", str(rules)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid(promtool: Path, context: Context, tmp_path: Path) -> None:
    config_dir = context.layout.compose_dir / "prometheus"
    config = write_localized(
        config_dir / "prometheus.yml",
        tmp_path / "prometheus.yml",
        paths={"/etc/prometheus/rules": config_dir / "rules"},
    )
    result = run([str(promtool), "check", "config", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_is_valid(context: Context) -> None:
    alertmanager = Alertmanager(context)
    ensure_built(context.layout, alertmanager.go_build)
    config = context.layout.compose_dir / "alertmanager" / "alertmanager.yml"
    result = run([str(alertmanager.binary("amtool")), "check-config", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr
