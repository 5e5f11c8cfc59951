"""`StoppableExporter`: an OTLP exporter that `Telemetry.shutdown` can end for good, quietly."""

from __future__ import annotations

from typing import Any

__all__ = ["StoppableExporter"]


class StoppableExporter:
    """Mixed into an OTLP exporter, before it in the bases: `stop` shuts it down for good.

    The SDK's exporter warns on every call after shutdown ("Exporter already shutdown"): once
    per batch the processor still hands it, and once more when the provider shuts down. After a
    deliberate `stop` (the collector was still unreachable when the final flush ran out of time)
    those calls are expected: they fail quietly, and `Telemetry.shutdown` reports the loss once.
    """

    _stopped = False

    def stop(self) -> None:
        """Shut down now: a retry in progress ends at once, later exports are dropped."""
        self._stopped = True
        super().shutdown()  # type: ignore[misc]

    @property
    def stopped(self) -> bool:
        """`stop` was called: the exporter's ``export`` returns FAILURE without a word."""
        return self._stopped

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        if not self._stopped:
            super().shutdown(*args, **kwargs)  # type: ignore[misc]
