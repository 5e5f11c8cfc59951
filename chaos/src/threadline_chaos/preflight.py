"""Before a drill: is the stack up? One line that says what to do when it is not."""

from __future__ import annotations

from typing import Any

import httpx

from threadline_chaos import toxiproxy
from threadline_chaos.endpoints import ADMIN_PORTS, DEFAULTS
from threadline_chaos.stack_access import FAULTABLE, context
from threadline_native.component import StackError
from threadline_native.stack import select

# What every drill needs answering: the services (admin /readyz), Prometheus, Toxiproxy.
REQUIRED = {
    "user service": "http://127.0.0.1:9101/readyz",
    "order service": "http://127.0.0.1:9102/readyz",
    "Prometheus": f"{DEFAULTS['prometheus_url']}/-/ready",
    "Toxiproxy": f"{DEFAULTS['toxiproxy_url']}/version",
}


def missing() -> list[str]:
    """The required parts of the stack that do not answer ready."""
    down = []
    for name, url in REQUIRED.items():
        try:
            ready = httpx.get(url, timeout=3.0).status_code == 200
        except httpx.HTTPError:
            ready = False
        if not ready:
            down.append(name)
    return down


def fault_target_problems(experiment: dict[str, Any]) -> list[str]:
    """Fault targets the experiment names that the running stack does not have."""
    problems = []
    activities = [*experiment.get("method", []), *experiment.get("rollbacks", [])]
    proxies: dict[str, Any] | None = None
    for activity in activities:
        provider = activity.get("provider", {})
        module, arguments = provider.get("module"), provider.get("arguments", {})
        if module == "threadline_chaos.network_faults" and "proxy" in arguments:
            if proxies is None:
                try:
                    proxies = toxiproxy.proxies(DEFAULTS["toxiproxy_url"])
                except (toxiproxy.ToxiproxyError, httpx.HTTPError) as error:
                    return [str(error)]
            if arguments["proxy"] not in proxies:
                problems.append(
                    f"no Toxiproxy proxy {arguments['proxy']!r} (the stack has: "
                    f"{', '.join(sorted(proxies)) or 'none'}); run `make up`"
                )
        elif module == "threadline_chaos.process_faults" and "component" in arguments:
            if arguments["component"] not in FAULTABLE:
                problems.append(
                    f"{arguments['component']!r} is not a component a drill may break "
                    f"({', '.join(FAULTABLE)})"
                )
                continue
            try:
                select(context(), [arguments["component"]])
            except StackError:
                problems.append(f"the stack has no component {arguments['component']!r} to break")
        elif module == "threadline_chaos.flag_faults" and "process" in arguments:
            port = ADMIN_PORTS.get(arguments["process"])
            if port is None:
                problems.append(f"no admin port for process {arguments['process']!r}")
                continue
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/admin/faults", timeout=3.0)
                ok = answered.status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                problems.append(
                    f"{arguments['process']} serves no /admin/faults on :{port}; run `make up`"
                )
    return sorted(set(problems))
