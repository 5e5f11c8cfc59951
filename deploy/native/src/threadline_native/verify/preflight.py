"""Before any check: is every component `make verify` talks to answering at all?

Without this a stack that is down shows as a table of time-outs; with it, `make verify` names
what is missing ("VictoriaLogs is not answering on :9428 — run `make up`") and stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from threadline_native.httpprobe import http_ok
from threadline_native.net import port_is_open
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.result import Result


@dataclass(frozen=True)
class Needed:
    name: str
    url: str
    # A path that answers 2xx once the component is ready; None: accepting TCP is enough.
    health_path: str | None

    @property
    def port(self) -> int:
        address = self.url if "://" in self.url else f"tcp://{self.url}"
        return urlsplit(address).port or 0

    def answers(self) -> bool:
        if self.health_path is None:
            return port_is_open(self.port)
        return http_ok(self.port, self.health_path)

    @property
    def complaint(self) -> str:
        where = f":{self.port}" + (self.health_path or "")
        return f"{self.name} is not answering on {where} — run `make up`"


def needed(endpoints: Endpoints, mode: Mode, *, services: bool) -> list[Needed]:
    """What this mode runs that `make verify` talks to (the services unless backends only)."""
    components = [
        # The collector's health port is internal; its OTLP/HTTP port is the public one.
        Needed("the OpenTelemetry Collector", endpoints.collector_http, None),
        Needed("Jaeger", endpoints.jaeger, "/api/services"),
        Needed("VictoriaLogs", endpoints.victorialogs, "/health"),
        Needed("Prometheus", endpoints.prometheus, "/-/ready"),
        Needed("Alertmanager", endpoints.alertmanager, "/-/ready"),
        Needed("the alert webhook recorder", endpoints.alert_recorder, "/alerts"),
    ]
    if mode is Mode.COMPOSE:
        components += [
            Needed("Tempo", endpoints.tempo, "/ready"),
            Needed("Loki", endpoints.loki, "/ready"),
        ]
    if services:
        components += [
            Needed("the user service", endpoints.user_admin, "/readyz"),
            Needed("the order service", endpoints.order_admin, "/readyz"),
            Needed("the order service's gRPC port", endpoints.order_grpc, None),
        ]
    return components


def preflight(endpoints: Endpoints, mode: Mode, *, services: bool) -> list[Result]:
    """One BROKEN row per component that does not answer; one ok row when all do."""
    components = needed(endpoints, mode, services=services)
    missing = [c for c in components if not c.answers()]
    if missing:
        return [Result.judged("component answers", c.name, False, c.complaint) for c in missing]
    names = ", ".join(c.name.removeprefix("the ") for c in components)
    return [Result.judged("components answer", f"{mode} stack", True, names)]
