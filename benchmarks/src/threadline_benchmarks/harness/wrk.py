"""Running wrk and reading its figures back: one JSON line from a Lua `done` hook."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from dataclasses import dataclass

from threadline_benchmarks.harness import schedule

# wrk's Lua: one JSON line with the figures, read back by `_wrk`.
_REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass
class Result:
    scenario: str
    connections: int
    requests: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    note: str = ""


def run_wrk(
    name: str, url: str, *, seconds: int, connections: int, lua: str, note: str = ""
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua + _REPORT_LUA)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    figures = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    elapsed = figures["duration_us"] / 1e6
    return Result(
        scenario=name,
        connections=connections,
        requests=figures["requests"],
        seconds=round(elapsed, 2),
        throughput_rps=round(figures["requests"] / elapsed, 1),
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
        non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"],
        note=note,
    )


def in_turns(
    scenarios: list[tuple[str, str, str, str]], *, seconds: int, connections: int, turns: int
) -> list[Result]:
    """Run (name, url, lua, note) scenarios taking turns, `turns` times `seconds / turns` each.

    On a machine shared with other work, a neighbour's burst then falls on every scenario rather
    than on the one that happened to be running. Throughput is over all turns; p50 is the median
    of the turns' p50s, p99 the highest of their p99s.
    """
    per_turn = max(1, round(seconds / turns))

    def run(scenario: tuple[str, str, str, str]) -> Result:
        name, url, lua, note = scenario
        return run_wrk(name, url, seconds=per_turn, connections=connections, lua=lua, note=note)

    runs = schedule.in_turns(scenarios, run, turns=turns)
    return [_combined(runs[index]) for index in range(len(scenarios))]


def _combined(turns: list[Result]) -> Result:
    requests = sum(turn.requests for turn in turns)
    elapsed = sum(turn.seconds for turn in turns)
    return Result(
        scenario=turns[0].scenario,
        connections=turns[0].connections,
        requests=requests,
        seconds=round(elapsed, 2),
        throughput_rps=round(requests / elapsed, 1),
        p50_ms=round(statistics.median(turn.p50_ms for turn in turns), 2),
        p99_ms=max(turn.p99_ms for turn in turns),
        non_2xx=sum(turn.non_2xx for turn in turns),
        socket_errors=sum(turn.socket_errors for turn in turns),
        note=turns[0].note,
    )


def headers_lua(headers: dict[str, str]) -> str:
    return "".join(f'wrk.headers["{key}"] = "{value}"\n' for key, value in headers.items())
