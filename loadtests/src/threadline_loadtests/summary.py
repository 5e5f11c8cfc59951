"""A run's figures as data: per request, per journey, the slowest traces and the errors.

The Locust process writes it as JSON when it quits (`--summary-file`); the verdict, the
report and the benchmark read it back. Percentiles are Locust's own (its response-time
histogram), so they match the HTML report to the millisecond.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING, Any

from threadline_loadtests.journeys import MIXED
from threadline_loadtests.slowest import SlowRequest

if TYPE_CHECKING:
    from locust.env import Environment
    from locust.stats import StatsEntry

    from threadline_loadtests.session import LoadSession

__all__ = ["Figures", "RequestFigures", "RunSummary", "build_summary"]


@dataclass(frozen=True, slots=True)
class Figures:
    requests: int
    failures: int
    rps: float
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @classmethod
    def from_entry(cls, entry: StatsEntry, *, duration_seconds: float) -> Figures:
        requests = int(entry.num_requests)
        return cls(
            requests=requests,
            failures=int(entry.num_failures),
            rps=requests / duration_seconds if duration_seconds > 0 else 0.0,
            avg_ms=float(entry.avg_response_time),
            p50_ms=float(entry.get_response_time_percentile(0.50)),
            p95_ms=float(entry.get_response_time_percentile(0.95)),
            p99_ms=float(entry.get_response_time_percentile(0.99)),
            max_ms=float(entry.max_response_time),
        )


@dataclass(frozen=True, slots=True)
class RequestFigures:
    name: str
    type: str
    figures: Figures
    # Slowest first; `sampled_slowest` only those whose traces were sampled (exported).
    slowest: list[SlowRequest] = field(default_factory=list)
    sampled_slowest: list[SlowRequest] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunSummary:
    started_at: str
    duration_seconds: float
    host: str
    grpc_target: str
    peak_users: int
    user_rps: float
    trace_sample_ratio: float
    run_id: str
    # None when the run was too short for Locust to sample its CPU use (every 5 s).
    generator_cpu_percent_avg: float | None
    generator_cpu_percent_max: float | None
    journeys: dict[str, Figures]
    requests: list[RequestFigures]
    errors: list[dict[str, Any]]
    # CPU milliseconds per request over the measured stretch: the load generator's own, and
    # each stack component's when the run measured them (cpu_window).
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    def journey(self, name: str) -> Figures | None:
        return self.journeys.get(name)

    def journeys_in_order(self) -> list[tuple[str, Figures]]:
        """The mixed journey first, then the others by name."""
        return sorted(self.journeys.items(), key=lambda item: (item[0] != MIXED, item[0]))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")

    @classmethod
    def read(cls, path: Path) -> RunSummary:
        return cls.from_dict(json.loads(path.read_text()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        return cls(
            started_at=str(data["started_at"]),
            duration_seconds=float(data["duration_seconds"]),
            host=str(data["host"]),
            grpc_target=str(data["grpc_target"]),
            peak_users=int(data["peak_users"]),
            user_rps=float(data["user_rps"]),
            trace_sample_ratio=float(data["trace_sample_ratio"]),
            run_id=str(data["run_id"]),
            generator_cpu_percent_avg=_optional_float(data["generator_cpu_percent_avg"]),
            generator_cpu_percent_max=_optional_float(data["generator_cpu_percent_max"]),
            journeys={name: Figures(**values) for name, values in data["journeys"].items()},
            requests=[
                RequestFigures(
                    name=str(item["name"]),
                    type=str(item["type"]),
                    figures=Figures(**item["figures"]),
                    slowest=[SlowRequest.from_dict(slow) for slow in item["slowest"]],
                    sampled_slowest=[
                        SlowRequest.from_dict(slow) for slow in item["sampled_slowest"]
                    ],
                )
                for item in data["requests"]
            ],
            errors=list(data["errors"]),
            cpu_ms_per_request={
                name: float(ms) for name, ms in data.get("cpu_ms_per_request", {}).items()
            },
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def build_summary(environment: Environment, session: LoadSession) -> RunSummary:
    """The figures of the run Locust has just finished, from its statistics and ours."""
    stats = environment.stats
    started = stats.total.start_time
    last = stats.total.last_request_timestamp or started
    duration = max(0.0, float(last - started))
    journeys = {MIXED: Figures.from_entry(stats.total, duration_seconds=duration)}
    journeys.update(
        (name, Figures.from_entry(entry, duration_seconds=duration))
        for (name, _method), entry in sorted(session.journeys.entries.items())
        if entry.num_requests
    )
    requests = [
        RequestFigures(
            name=name,
            type=method,
            figures=Figures.from_entry(entry, duration_seconds=duration),
            slowest=session.slowest.slowest(name),
            sampled_slowest=session.slowest.slowest(name, sampled_only=True),
        )
        for (name, method), entry in sorted(stats.entries.items())
        if entry.num_requests
    ]
    cpu = session.cpu_percent_samples
    errors = [
        {
            "type": error.method,
            "name": error.name,
            "error": str(error.error),
            "count": error.occurrences,
        }
        for error in sorted(stats.errors.values(), key=lambda error: -error.occurrences)
    ]
    return RunSummary(
        started_at=datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        duration_seconds=round(duration, 3),
        host=str(environment.host or ""),
        grpc_target=session.options.grpc_target,
        peak_users=session.peak_users,
        user_rps=session.options.user_rps,
        trace_sample_ratio=session.options.trace_sample_ratio,
        run_id=session.run_id,
        generator_cpu_percent_avg=round(fmean(cpu), 1) if cpu else None,
        generator_cpu_percent_max=round(max(cpu), 1) if cpu else None,
        journeys=journeys,
        requests=requests,
        errors=errors,
        cpu_ms_per_request={name: round(ms, 4) for name, ms in session.cpu.ms_per_request.items()},
    )
