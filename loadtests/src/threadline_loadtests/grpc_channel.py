"""The shoppers' channel to the order service, and how soon it tries again after losing it.

gRPC waits longer after each failed connect (1 s, 1.6 s, 2.6 s ... up to 120 s), and a call on
a channel still waiting fails at once, so after an outage a shopper kept failing calls to a
server that was up again: after 10 s down, for up to 6.6 s (in terminate-order and kill-order
under `make chaos-all`, about 50 failed calls each were sent after order was healthy). Capped
at 1 s, a shopper sees the server back within a second, as the HTTP users (which connect
again on their next request) do.
"""

from __future__ import annotations

import grpc

__all__ = ["CHANNEL_OPTIONS", "open_channel"]

CHANNEL_OPTIONS = (("grpc.max_reconnect_backoff_ms", 1000),)


def open_channel(target: str) -> grpc.Channel:
    """A shopper's channel to the order service, reconnecting at most a second apart."""
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
