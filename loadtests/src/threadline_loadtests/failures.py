"""Failed requests as JSON lines, with the trace id of each: what a chaos drill links to Jaeger.

One line per failed request, appended as it fails (so a run that is killed keeps what it had):
`{"at": <unix seconds>, "name": ..., "trace_id": ..., "sampled": ..., "error": ...,
"response_time_ms": ...}`: `at` is when it ended, `at - response_time_ms / 1000` when it was
sent, which tells a drill whether it was in flight at a given moment. Workers of a distributed
run may share the file: each line is one small append.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["FailedRequest", "FailureLog", "read_failures"]

# An error's text is kept short: it says what kind of failure, the trace tells the rest.
_ERROR_CHARS = 200


@dataclass(frozen=True, slots=True)
class FailedRequest:
    at: float
    name: str
    trace_id: str
    sampled: bool
    error: str
    # How long it took; None in lines written before the field existed.
    response_time_ms: float | None = None

    @property
    def started_at(self) -> float | None:
        """When it was sent (unix seconds), if its duration is known."""
        return None if self.response_time_ms is None else self.at - self.response_time_ms / 1000


class FailureLog:
    """Appends each failed request to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self,
        *,
        name: str,
        trace_id: str,
        sampled: bool,
        error: object,
        response_time_ms: float | None = None,
    ) -> None:
        failure = FailedRequest(
            at=time.time(),
            name=name,
            trace_id=trace_id,
            sampled=sampled,
            error=str(error)[:_ERROR_CHARS],
            response_time_ms=None if response_time_ms is None else round(response_time_ms, 3),
        )
        with self.path.open("a") as handle:
            handle.write(json.dumps(asdict(failure), separators=(",", ":")) + "\n")


def read_failures(path: Path) -> list[FailedRequest]:
    """The failures a FailureLog wrote (none when the file does not exist); torn lines skipped."""
    if not path.exists():
        return []
    failures = []
    for line in path.read_text().splitlines():
        try:
            failures.append(FailedRequest(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue  # the last line of a run killed mid-write
    return failures
