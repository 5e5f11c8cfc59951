"""Where the drills find the stack: one place for every address, overridable by configuration.

Chaos Toolkit hands each provider the experiment's `configuration`; an experiment may set any of
these keys (usually `{type: env, key: ..., default: ...}`), and the defaults are the addresses
both stack modes serve on 127.0.0.1 (docs/architecture.md, Ports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, str] = {
    "prometheus_url": "http://127.0.0.1:9090",
    "toxiproxy_url": "http://127.0.0.1:8474",
    "alert_recorder_url": "http://127.0.0.1:9098",
    "jaeger_url": "http://127.0.0.1:16686",
    "victorialogs_url": "http://127.0.0.1:9428",
    "user_url": "http://127.0.0.1:8000",
    "order_target": "127.0.0.1:50051",
}

# Admin ports of every process role that serves /admin/faults (contracts: user 9101, order 9102,
# the order outbox relay 9103, the orders.v1 consumer 9104).
ADMIN_PORTS: dict[str, int] = {
    "user": 9101,
    "order": 9102,
    "order-relay": 9103,
    "user-consumer": 9104,
}


def endpoint(configuration: Mapping[str, Any] | None, key: str) -> str:
    """The configured address for key, else the stack's default."""
    value = (configuration or {}).get(key)
    return str(value).rstrip("/") if value else DEFAULTS[key]
