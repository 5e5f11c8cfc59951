"""The trace ids of the requests that failed during a drill, from the load generator's record."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def failed_trace_ids(path: Path, *, since: datetime, until: datetime) -> tuple[int, list[str]]:
    """(failed requests between since and until, their distinct trace ids in order)."""
    raise NotImplementedError
