"""The verdict of a drill run: passed, failed or aborted, with every reason."""

from __future__ import annotations

from threadline_chaos.record import DrillRun, DrillStatus


def verdict(run: DrillRun) -> tuple[DrillStatus, list[str]]:
    """Judge the run: steady state, recovery bound, expected alerts, reconciliation."""
    raise NotImplementedError
