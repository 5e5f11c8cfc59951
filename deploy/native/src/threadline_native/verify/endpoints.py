"""Where the backends answer, and which stack runs them (compose or native)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from threadline_native.paths import Layout


class Mode(StrEnum):
    NATIVE = "native"
    COMPOSE = "compose"


def recorded_mode(layout: Layout) -> Mode:
    """The mode `make up` recorded in .threadline/state/mode; native when none was recorded."""
    try:
        text = (layout.state_dir / "mode").read_text().strip()
    except OSError:
        return Mode.NATIVE
    return Mode.COMPOSE if text == Mode.COMPOSE else Mode.NATIVE


@dataclass(frozen=True)
class Endpoints:
    """The same public ports in both modes (DESIGN §7); Tempo and Loki answer under compose only."""

    collector_http: str = "http://127.0.0.1:4318"
    jaeger: str = "http://127.0.0.1:16686"
    victorialogs: str = "http://127.0.0.1:9428"
    prometheus: str = "http://127.0.0.1:9090"
    alertmanager: str = "http://127.0.0.1:9093"
    alert_recorder: str = "http://127.0.0.1:9098"
    tempo: str = "http://127.0.0.1:3200"
    loki: str = "http://127.0.0.1:3100"
    user_api: str = "http://127.0.0.1:8000"
    user_admin: str = "http://127.0.0.1:9101"
    order_grpc: str = "127.0.0.1:50051"
    order_admin: str = "http://127.0.0.1:9102"
