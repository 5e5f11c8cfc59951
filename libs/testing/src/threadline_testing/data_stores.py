"""The port through which a test session gets PostgreSQL, Redis and Kafka to answer.

The plugin does not know how a data store is started: whatever package can start them registers
a provider under the entry-point group ``threadline.data_stores`` (the native stack tool,
deploy/native, does: ``threadline_native.data_stores:NativeDataStores``). So this library depends
on no runner, and the runner imports nothing of the tests. With no provider installed, the
session uses servers that already answer on their standard ports and says how to start them
when one does not.
"""

from __future__ import annotations

import socket
from importlib.metadata import entry_points
from typing import Protocol

__all__ = ["ENTRY_POINT_GROUP", "STANDARD_PORTS", "DataStores", "RunningOnly", "load_data_stores"]

ENTRY_POINT_GROUP = "threadline.data_stores"
STANDARD_PORTS = {"postgres": 5432, "redis": 6379, "kafka": 9092}


class DataStores(Protocol):
    """Starts data stores on demand and stops, at the end, exactly those it started."""

    def ensure(self, name: str) -> None:
        """Make `name` ("postgres", "redis", "kafka") answer: reuse a running one or start it."""

    def stop_started(self) -> None:
        """Stop the data stores this object started (none it found running)."""


class RunningOnly:
    """No provider installed: use what answers on the standard ports, start nothing."""

    def ensure(self, name: str) -> None:
        """Check that `name` answers on its standard port; say how to start it otherwise."""
        port = STANDARD_PORTS[name]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            raise RuntimeError(
                f"{name} does not answer on 127.0.0.1:{port} and no package that starts data "
                f"stores is installed (entry-point group {ENTRY_POINT_GROUP!r}): run `make up`"
            ) from None

    def stop_started(self) -> None:
        """Nothing was started."""


def load_data_stores() -> DataStores:
    """The installed provider (the first by name when several are), else `RunningOnly`."""
    providers = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)
    if not providers:
        return RunningOnly()
    provider: DataStores = providers[0].load()()
    return provider
