"""Failed requests are recorded with their trace ids, for the chaos drills' reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from threadline_loadtests.failures import FailureLog, read_failures

# The session's request listener, driven as Locust drives it. In a child process: importing
# Locust monkey-patches the standard library for gevent, which must not happen in this one.
LISTENER_RUN = """
import sys
import locust  # noqa: F401 - patches first, as in a real run
from threadline_loadtests.options import LoadOptions
from threadline_loadtests.session import LoadSession, RequestContext

session = LoadSession.create(LoadOptions(failures_file=sys.argv[1]))
for trace_id, exception in (("a" * 32, None), ("b" * 32, RuntimeError("503 injected fault"))):
    session.on_request(
        name="GET /v1/users/{user_id}",
        response_time=12.0,
        response_length=10,
        exception=exception,
        context=RequestContext("browse", trace_id, True).as_locust_context(),
    )
"""


def test_the_session_records_each_failed_request_and_only_those(tmp_path: Path) -> None:
    path = tmp_path / "load" / "failures.jsonl"

    subprocess.run([sys.executable, "-c", LISTENER_RUN, str(path)], check=True, timeout=60)

    failures = read_failures(path)
    assert [(f.trace_id, f.error, f.sampled) for f in failures] == [
        ("b" * 32, "503 injected fault", True)
    ]
    assert failures[0].name == "GET /v1/users/{user_id}"
    assert failures[0].response_time_ms == 12.0
    assert failures[0].started_at == failures[0].at - 0.012


def test_failures_are_appended_in_order_with_their_time(tmp_path: Path) -> None:
    log = FailureLog(tmp_path / "failures.jsonl")

    log.record(
        name="CreateOrder",
        trace_id="c" * 32,
        sampled=False,
        error="UNAVAILABLE",
        response_time_ms=250.0,
    )
    log.record(name="CreateOrder", trace_id="d" * 32, sampled=True, error="x" * 1000)

    first, second = read_failures(log.path)
    assert (first.trace_id, second.trace_id) == ("c" * 32, "d" * 32)
    assert first.at <= second.at
    assert len(second.error) == 200
    assert first.started_at == first.at - 0.25
    assert second.response_time_ms is None
    assert second.started_at is None


def test_a_torn_last_line_is_skipped_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "failures.jsonl"
    path.write_text(
        '{"at":1.0,"name":"n","trace_id":"' + "d" * 32 + '","sampled":false,"error":"e"}\n'
        '{"at":2.0,"name":"n","trace_'
    )

    assert [f.trace_id for f in read_failures(path)] == ["d" * 32]
    assert read_failures(tmp_path / "absent.jsonl") == []
