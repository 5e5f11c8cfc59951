"""The SLO rules, Prometheus and Alertmanager configs, checked by the tools of the pinned versions.

promtool and amtool are built from their Go modules (once; cached under .threadline/cache): on a
cold cache only these two tools are built, not the servers, and the run says so while it builds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from threadline_native.component import Context
from threadline_native.components.alertmanager import Alertmanager
from threadline_native.components.prometheus import (
    Prometheus,
    native_scrape_config,
    prometheus_paths,
)
from threadline_native.gobuild import GoBuild, ensure_tool
from threadline_native.localconfig import COMPOSE_ONLY, localize, write_localized
from threadline_native.stack import load_context

# A cold cache builds promtool and amtool first (a few minutes on two cores); later runs reuse
# the cached binaries and finish in about a second.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def context() -> Context:
    return load_context()


@pytest.fixture(scope="module")
def build_tool(context: Context, pytestconfig: pytest.Config) -> Callable[[GoBuild, str], Path]:
    """Build one tool if it is not cached, with the build's progress shown, not captured."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def build(go_build: GoBuild, binary: str) -> Path:
        with capture.global_and_fixture_disabled():
            return ensure_tool(context.layout, go_build, binary)

    return build


@pytest.fixture(scope="module")
def promtool(context: Context, build_tool: Callable[[GoBuild, str], Path]) -> Path:
    return build_tool(Prometheus(context).go_build, "promtool")


@pytest.fixture(scope="module")
def amtool(context: Context, build_tool: Callable[[GoBuild, str], Path]) -> Path:
    return build_tool(Alertmanager(context).go_build, "amtool")


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def test_slo_rules_page_ticket_and_stay_quiet_as_specified(
    promtool: Path, context: Context
) -> None:
    rules = context.layout.compose_dir / "prometheus" / "rules"
    # slo.test.yml, and one slo-<name>.test.yml per service `make new-service` made.
    tests = sorted(path.name for path in rules.glob("*.test.yml"))
    assert "slo.test.yml" in tests
    result = run([str(promtool), "test", "rules", *tests], cwd=rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests), result.stdout


def test_slo_rules_are_valid_rule_files(promtool: Path, context: Context) -> None:
    rules = sorted((context.layout.compose_dir / "prometheus" / "rules").glob("*.rules.yml"))
    result = run([str(promtool), "check", "rules", *map(str, rules)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid(promtool: Path, context: Context, tmp_path: Path) -> None:
    config_dir = context.layout.compose_dir / "prometheus"
    config = write_localized(
        config_dir / "prometheus.yml",
        tmp_path / "prometheus.yml",
        paths=prometheus_paths(config_dir),
    )
    result = run([str(promtool), "check", "config", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_native_prometheus_config_is_valid_and_scrapes_no_compose_only_backend(
    promtool: Path, tmp_path: Path
) -> None:
    config_dir = load_context().layout.compose_dir / "prometheus"
    text = localize((config_dir / "prometheus.yml").read_text(), paths=prometheus_paths(config_dir))
    native = tmp_path / "prometheus.yml"
    native.write_text(native_scrape_config(text))
    jobs = {job["job_name"] for job in yaml.safe_load(native.read_text())["scrape_configs"]}
    assert "victorialogs" in jobs
    assert not jobs & COMPOSE_ONLY
    result = run([str(promtool), "check", "config", str(native)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_is_valid(context: Context, amtool: Path) -> None:
    config = context.layout.compose_dir / "alertmanager" / "alertmanager.yml"
    result = run([str(amtool), "check-config", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr
