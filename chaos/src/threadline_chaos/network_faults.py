"""Chaos Toolkit actions that degrade the network through Toxiproxy's proxies.

The stack places a proxy between each service and PostgreSQL, Redis and Kafka and between order
and user (user-postgres, user-redis, user-kafka, order-postgres, order-kafka, order-user);
without a toxic each one passes traffic through untouched.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import toxiproxy
from threadline_chaos.endpoints import endpoint

__all__ = ["add_toxic", "remove_all_toxics", "remove_toxic"]


def add_toxic(
    *,
    proxy: str,
    toxic_type: str,
    attributes: dict[str, int],
    name: str | None = None,
    stream: str = "downstream",
    toxicity: float = 1.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Add a toxic (latency, timeout, reset_peer, bandwidth, slow_close...) to a proxy."""
    try:
        return toxiproxy.add_toxic(
            endpoint(configuration, "toxiproxy_url"),
            proxy=proxy,
            name=name or f"chaos-{toxic_type}-{stream}",
            toxic_type=toxic_type,
            attributes=attributes,
            stream=stream,
            toxicity=toxicity,
        )
    except toxiproxy.ToxiproxyError as error:
        raise ActivityFailed(str(error)) from error


def remove_toxic(*, proxy: str, name: str, configuration: Configuration = None) -> bool:
    """Remove one toxic; True when it was there."""
    try:
        return toxiproxy.remove_toxic(
            endpoint(configuration, "toxiproxy_url"), proxy=proxy, name=name
        )
    except toxiproxy.ToxiproxyError as error:
        raise ActivityFailed(str(error)) from error


def remove_all_toxics(*, configuration: Configuration = None) -> dict[str, list[str]]:
    """Remove every toxic of every proxy; the ones that were there."""
    url = endpoint(configuration, "toxiproxy_url")
    try:
        before = toxiproxy.toxics(url)
        toxiproxy.reset(url)
    except toxiproxy.ToxiproxyError as error:
        raise ActivityFailed(str(error)) from error
    return before
