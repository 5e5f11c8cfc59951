"""The native stack as the test sessions' provider of PostgreSQL, Redis and Kafka.

Registered under the entry-point group ``threadline.data_stores`` (this package's
pyproject.toml), which libs/testing's pytest plugin reads: the plugin starts data stores through
it without importing this package.
"""

from __future__ import annotations

from threadline_native.component import Component
from threadline_native.stack import ensure_up, load_context, select, stop_components

__all__ = ["NativeDataStores"]


class NativeDataStores:
    """Reuses a data store that answers (native or compose) or starts it natively."""

    def __init__(self) -> None:
        self._started: list[Component] = []

    def ensure(self, name: str) -> None:
        """Make `name` answer; remember it if this call started it."""
        (component,) = select(load_context(), [name])
        self._started.extend(ensure_up([component], progress=False))

    def stop_started(self) -> None:
        """Stop, in reverse start order, what `ensure` started."""
        stop_components(self._started)
        self._started.clear()
