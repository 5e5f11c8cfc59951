"""Did a graceful stop keep its promise? The RPCs in flight at SIGTERM all completed.

A SIGTERM splits a component's callers in three: calls already sent when the signal arrived
(in flight: the drain must complete them, none may fail), calls sent while it drained and
exited, and calls sent while it was down until it was healthy again (those may be refused,
but only with UNAVAILABLE, the status that tells a client to retry elsewhere). The load
generator's failure log gives each failed call's send and end time (end - response time) and
its status; the process actions leave the moments of the signal, the exit and the restart in
the run directory (`note_moment`). Client clock and drill clock are the same machine's.

The client sees only the calls that failed. How many were in flight, and whether any was cut
off inside the server, is the server's own account: the "grpc drain finished" line the order
service logs (order_service.api.draining), read back from VictoriaLogs. No call in flight at
SIGTERM means the drill proved nothing about the drain, and fails too.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import checks, run_dir
from threadline_chaos.checks import MethodCheck
from threadline_chaos.endpoints import endpoint
from threadline_loadtests.failures import FailedRequest, read_failures
from threadline_loadtests.runner import FAILURES_JSONL
from threadline_native.verify import victorialogs
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError

__all__ = ["Moments", "ServerDrain", "in_flight_calls_completed", "judge_drain", "note_moment"]

MOMENTS_FILE = "component-moments.jsonl"
# The status a refused call must carry: retryable, "try another instance".
CLEAN_REFUSAL = "UNAVAILABLE"
# How many failed calls the check names (with their trace ids) before it only counts.
NAMED = 10
DRAIN_LINE = "grpc drain finished"
# The line travels service -> Collector -> VictoriaLogs in batches: wait this long for it.
SERVER_LINE_WAIT_SECONDS = 20.0
# "order.v1.OrderService/GetOrder: UNAVAILABLE: details", as the gRPC load user words it.
_STATUS = re.compile(r"^[^:]+: ([A-Z_]+): ")


def note_moment(component: str, event: str, at: float) -> None:
    """Record that component was signalled / exited / started (healthy) at `at` (unix s)."""
    line = json.dumps({"component": component, "event": event, "at": at})
    with (run_dir.current() / MOMENTS_FILE).open("a") as handle:
        handle.write(line + "\n")


@dataclass(frozen=True)
class Moments:
    """When the component got its signal, was gone, and was healthy again (unix seconds)."""

    signalled: float
    exited: float
    healthy_again: float | None  # None: not restarted before the check ran

    @classmethod
    def read(cls, component: str) -> Moments:
        """The first signal of component in this run, the exit and the restart after it."""
        path = run_dir.current() / MOMENTS_FILE
        events = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
        mine = [e for e in events if e["component"] == component]
        signalled = next((e["at"] for e in mine if e["event"] == "signalled"), None)
        exited = next((e["at"] for e in mine if e["event"] == "exited"), None)
        if signalled is None or exited is None:
            raise ActivityFailed(
                f"no signal to {component} recorded in this run: call signal_component first"
            )
        healthy = next(
            (e["at"] for e in mine if e["event"] == "started" and e["at"] >= exited), None
        )
        return cls(signalled=float(signalled), exited=float(exited), healthy_again=healthy)


@dataclass(frozen=True)
class ServerDrain:
    """The server's account of its drain (the fields of its "grpc drain finished" line)."""

    running_at_start: int
    ended_ok: int
    ended_with_error: int  # an error status is an answer too (NOT_FOUND...); clients judge it
    refused: int
    left_running: int  # still running when the grace ran out: cancelled by the stop
    seconds: float

    @classmethod
    def from_line(cls, line: dict[str, Any]) -> ServerDrain:
        return cls(
            running_at_start=int(line["drain.running_at_start"]),
            ended_ok=int(line["drain.ended_ok"]),
            ended_with_error=int(line["drain.ended_with_error"]),
            refused=int(line["drain.refused"]),
            left_running=int(line["drain.left_running"]),
            seconds=float(line["drain.seconds"]),
        )


def status_of(failure: FailedRequest) -> str:
    """The gRPC status the call failed with, or 'other' (e.g. a broken promise)."""
    match = _STATUS.match(failure.error)
    return match.group(1) if match else "other"


def judge_drain(
    failures: list[FailedRequest],
    *,
    moments: Moments,
    rpc_prefix: str,
    component: str,
    server: ServerDrain | None,
    server_note: str = "",
) -> MethodCheck:
    """In-flight calls: none failed, none cut off; calls sent after SIGTERM: UNAVAILABLE.

    server is the component's own account of the drain (None when it could not be read:
    server_note says why, and only the client side is judged).
    """
    calls = [f for f in failures if f.name.startswith(rpc_prefix)]
    untimed = [f for f in calls if f.started_at is None and f.at >= moments.signalled]
    in_flight = [
        f for f in calls if f.started_at is not None and f.started_at < moments.signalled <= f.at
    ]
    back = moments.healthy_again if moments.healthy_again is not None else float("inf")
    draining = [
        f
        for f in calls
        if f.started_at is not None and moments.signalled <= f.started_at < moments.exited
    ]
    down = [f for f in calls if f.started_at is not None and moments.exited <= f.started_at < back]
    # Not judged (the SLIs are): a client still backing off its reconnects fails calls to a
    # server that is up again, so these show what the clients' side of recovery costs.
    after = [f for f in calls if f.started_at is not None and f.started_at >= back]
    unclean = [f for f in draining + down if status_of(f) != CLEAN_REFUSAL]
    problems = []
    if in_flight:
        problems.append(
            f"{len(in_flight)} calls in flight when SIGTERM reached {component} failed "
            f"({_named(in_flight)})"
        )
    if unclean:
        problems.append(
            f"{len(unclean)} calls sent after SIGTERM failed with another status than "
            f"{CLEAN_REFUSAL} ({_named(unclean)})"
        )
    if untimed:
        problems.append(
            f"{len(untimed)} failed calls after SIGTERM carry no response time, so whether they "
            "were in flight is unknown"
        )
    if server is not None and server.left_running:
        problems.append(
            f"{server.left_running} calls were still running in {component} when its drain's "
            "grace period ran out (cancelled by the stop)"
        )
    if server is not None and not server.running_at_start:
        problems.append(
            f"no call was running in {component} when SIGTERM arrived: the drill proved "
            "nothing about the drain"
        )
    drained_s = moments.exited - moments.signalled
    running = f"{server.running_at_start} " if server is not None else ""
    summary = "; ".join(problems) or (
        f"0 of the {running}calls in flight when SIGTERM reached {component} failed; it "
        f"drained and exited in {drained_s:.2f} s; {len(draining)} calls sent while it "
        f"drained and {len(down)} while it was down were refused with {CLEAN_REFUSAL}"
    )
    observations = (
        ("SIGTERM sent", _clock(moments.signalled)),
        ("process gone", f"{_clock(moments.exited)} (+{drained_s:.2f} s)"),
        (
            "healthy again",
            _clock(moments.healthy_again) if moments.healthy_again is not None else "not seen",
        ),
        ("failed calls in flight at SIGTERM", str(len(in_flight))),
        ("failed calls sent while draining, by status", _by_status(draining)),
        ("failed calls sent while down, by status", _by_status(down)),
        ("failed calls sent once healthy again, by status (not judged)", _by_status(after)),
        *_server_rows(server, server_note),
    )
    return MethodCheck(
        name=f"in-flight-{component}",
        held=not problems,
        summary=summary,
        observations=observations,
    )


def in_flight_calls_completed(
    *,
    component: str,
    rpc_prefix: str,
    settle_seconds: float = 1.0,
    server_line_wait_seconds: float = SERVER_LINE_WAIT_SECONDS,
    configuration: Configuration = None,
) -> dict[str, object]:
    """Judge the drill's SIGTERM from the load's failure log and the server's drain line.

    Call it after the component is started again: by then every call in flight at the signal
    has ended and been logged (settle_seconds lets the last lines land). Fails the activity
    (and so the verdict) when the promise broke.
    """
    moments = Moments.read(component)
    time.sleep(settle_seconds)
    server, note = _server_drain(
        endpoint(configuration, "victorialogs_url"),
        component=component,
        moments=moments,
        wait_seconds=server_line_wait_seconds,
    )
    failures = read_failures(run_dir.current() / run_dir.LOAD_DIR / FAILURES_JSONL)
    check = checks.record(
        judge_drain(
            failures,
            moments=moments,
            rpc_prefix=rpc_prefix,
            component=component,
            server=server,
            server_note=note,
        )
    )
    if not check.held:
        raise ActivityFailed(check.summary)  # a failed activity fails the verdict
    return {"held": check.held, "summary": check.summary}


def _server_drain(
    url: str, *, component: str, moments: Moments, wait_seconds: float
) -> tuple[ServerDrain | None, str]:
    """The component's drain line logged after the signal, waited for; else None and why."""
    deadline = time.monotonic() + wait_seconds
    logsql = f'"service.name":={json.dumps(component)} AND _msg:={json.dumps(DRAIN_LINE)}'
    while True:
        try:
            lines = victorialogs.query(
                Endpoints(victorialogs=url),
                logsql,
                start=moments.signalled - 1.0,
                end=time.time() + 1.0,
            )
        except (HttpError, OSError) as error:
            lines, note = [], f"VictoriaLogs did not answer ({error})"
        else:
            note = f"no {DRAIN_LINE!r} line from {component} in VictoriaLogs"
        if lines:
            try:
                return ServerDrain.from_line(lines[0]), ""
            except (KeyError, ValueError) as error:
                return None, f"the {DRAIN_LINE!r} line lacks {error}"
        if time.monotonic() >= deadline:
            return None, f"{note} after {wait_seconds:.0f} s"
        time.sleep(1.0)


def _server_rows(server: ServerDrain | None, note: str) -> tuple[tuple[str, str], ...]:
    if server is None:
        return (("server's account of the drain", f"not read: {note}"),)
    return (
        ("server: calls running when SIGTERM arrived", str(server.running_at_start)),
        (
            "server: of those, ended OK / with an error status",
            f"{server.ended_ok} / {server.ended_with_error}",
        ),
        ("server: new calls refused UNAVAILABLE while draining", str(server.refused)),
        ("server: still running when the grace ran out", str(server.left_running)),
        ("server: drain took", f"{server.seconds:.2f} s"),
    )


def _named(failures: list[FailedRequest]) -> str:
    shown = ", ".join(f"{status_of(f)} trace {f.trace_id}" for f in failures[:NAMED])
    return shown + (f" and {len(failures) - NAMED} more" if len(failures) > NAMED else "")


def _by_status(failures: list[FailedRequest]) -> str:
    counts = Counter(status_of(f) for f in failures)
    return ", ".join(f"{status} {n}" for status, n in counts.most_common()) or "none"


def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 1000):03d}"
