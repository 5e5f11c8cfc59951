"""The outbox relay and the orders.v1 consumer run as processes of their own in both stacks,
are scraped under their service's job, and their service runs without its in-process copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from threadline_native.components.prometheus import native_scrape_config
from threadline_native.localconfig import localize
from threadline_native.paths import find_project_root

ROOT = find_project_root(Path(__file__).parent)
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose" / "compose.yaml").read_text())["services"]
PROMETHEUS = (ROOT / "deploy" / "compose" / "prometheus" / "prometheus.yml").read_text()

# (worker, its service, command, admin port, the admin-port setting, the in-process flag)
WORKERS = [
    ("order-relay", "order", ["order-service", "relay"], 9103, "ORDER_RELAY_ADMIN_PORT",
     "ORDER_RELAY_ENABLED"),
    ("user-consumer", "user", ["user-service", "consume"], 9104,
     "USER_ORDERS_CONSUMER_ADMIN_PORT", "USER_ORDERS_CONSUMER_ENABLED"),
]  # fmt: skip


def scrape_targets(config: dict[str, Any], job: str) -> list[tuple[str, dict[str, str]]]:
    [found] = [j for j in config["scrape_configs"] if j["job_name"] == job]
    return [
        (target, group.get("labels", {}))
        for group in found["static_configs"]
        for target in group["targets"]
    ]


@pytest.mark.parametrize(("worker", "service", "command", "port", "port_setting", "flag"), WORKERS)
def test_compose_runs_the_worker_from_its_services_image_after_the_service_is_healthy(  # noqa: PLR0917 - parametrized
    worker: str, service: str, command: list[str], port: int, port_setting: str, flag: str
) -> None:
    runs, api = COMPOSE[worker], COMPOSE[service]
    assert runs["image"] == api["image"]
    assert runs["build"] == api["build"]
    assert runs["entrypoint"] == command
    # The service migrates; the worker waits for it, so it never meets an unmigrated database.
    assert runs["depends_on"][service] == {"condition": "service_healthy"}
    assert "migrate" not in " ".join(runs["entrypoint"])
    assert f"127.0.0.1:{port}/readyz" in " ".join(runs["healthcheck"]["test"])
    assert runs["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert runs["mem_limit"]
    # The service's own settings (stores through the same proxies), plus the admin port.
    assert runs["environment"] == {**api["environment"], port_setting: str(port)}
    assert api["environment"][flag] == "false"
    assert set(runs["depends_on"]) >= set(api["depends_on"])


@pytest.mark.parametrize(("worker", "service", "command", "port", "port_setting", "flag"), WORKERS)
def test_prometheus_scrapes_the_worker_as_another_target_of_its_services_job(  # noqa: PLR0917 - parametrized
    worker: str, service: str, command: list[str], port: int, port_setting: str, flag: str
) -> None:
    compose = scrape_targets(yaml.safe_load(PROMETHEUS), service)
    assert (f"{worker}:{port}", {"service": service}) in compose
    assert len({target for target, _ in compose}) == len(compose) == 2
    native = scrape_targets(yaml.safe_load(native_scrape_config(localize(PROMETHEUS))), service)
    assert (f"127.0.0.1:{port}", {"service": service}) in native
