"""The trace ids of the requests that failed during a drill, from the load generator's record.

The drill's Locust run appends each failed request to failures.jsonl in its directory
(threadline_loadtests.failures); the report links each trace id to Jaeger.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from threadline_loadtests.failures import read_failures
from threadline_loadtests.runner import FAILURES_JSONL


def failed_trace_ids(load_dir: Path, *, since: datetime, until: datetime) -> tuple[int, list[str]]:
    """(failed requests between since and until, their distinct trace ids, oldest first)."""
    failures = [
        failure
        for failure in read_failures(load_dir / FAILURES_JSONL)
        if since.timestamp() <= failure.at <= until.timestamp()
    ]
    return len(failures), list(dict.fromkeys(failure.trace_id for failure in failures))
