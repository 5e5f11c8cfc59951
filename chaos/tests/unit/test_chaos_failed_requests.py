"""The drill's failed requests: counted and their trace ids kept, within the drill's time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from threadline_chaos.failed_requests import failed_trace_ids
from threadline_chaos.record import utc_from_epoch


def failure(at: float, trace_id: str) -> str:
    return f'{{"at":{at},"name":"CreateOrder","trace_id":"{trace_id}","sampled":true,"error":"x"}}'


def test_failures_inside_the_drill_are_counted_and_their_trace_ids_kept_once(
    tmp_path: Path,
) -> None:
    lines = [
        failure(99.0, "0" * 32),  # before the drill
        failure(100.0, "a" * 32),
        failure(150.0, "b" * 32),
        failure(151.0, "a" * 32),  # a retried request under the same trace
        failure(201.0, "c" * 32),  # after it
    ]
    (tmp_path / "failures.jsonl").write_text("\n".join(lines) + "\n")

    count, trace_ids = failed_trace_ids(
        tmp_path, since=utc_from_epoch(100.0), until=utc_from_epoch(200.0)
    )

    assert count == 3
    assert trace_ids == ["a" * 32, "b" * 32]


def test_a_run_without_failures_has_none(tmp_path: Path) -> None:
    now = datetime.now(UTC)

    assert failed_trace_ids(tmp_path, since=now, until=now) == (0, [])
