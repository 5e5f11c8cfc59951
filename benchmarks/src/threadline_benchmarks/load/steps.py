"""The load benchmark's settings, its steps and the rule for whether a step held."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from threadline_loadtests.journeys import MIXED
from threadline_loadtests.options import DEFAULT_TRACE_SAMPLE_RATIO
from threadline_loadtests.summary import Figures, RunSummary

__all__ = ["STACK_PORTS", "BenchSettings", "Step", "step_holds"]

# What answers on the ports of DESIGN §7, recorded so a reader knows what "the stack" was.
STACK_PORTS = {
    "user API": 8000,
    "order gRPC": 50051,
    "PostgreSQL": 5432,
    "Redis": 6379,
    "Kafka": 9092,
    "collector (OTLP)": 4317,
    "Prometheus": 9090,
    "VictoriaLogs": 9428,
    "Jaeger": 16686,
    "Loki (compose)": 3100,
    "Tempo (compose)": 3200,
    "Grafana": 3000,
}


@dataclass(frozen=True, slots=True)
class BenchSettings:
    doc: Path
    out_dir: Path
    cpus: str = "1"
    step_time: str = "45s"
    start_rps: float = 200.0
    max_rps: float = 2000.0
    # Below this the search gives up: the system holds nothing worth a figure.
    min_rps: float = 20.0
    climb_step_rps: float = 200.0
    bisect_steps: int = 3
    # How many times a failed step is run again before it counts as failed (see the docstring).
    failed_step_reruns: int = 1
    # A user waits for each answer before pacing the next request (a closed loop): a request
    # slower than 1 / user_rps (100 ms) makes it fall behind, so a step can fail on delivery
    # with p99 within the limit, and few users back off when the system slows down. Fewer
    # requests per user (--user-rps 4: more users, more in flight) is closer to independent
    # arrivals and a harder test; see the load tests' README.
    user_rps: float = 10.0
    p99_limit_ms: float = 250.0
    min_delivered_share: float = 0.95
    trace_sample_ratio: float = DEFAULT_TRACE_SAMPLE_RATIO
    otlp_endpoint: str = ""
    host: str = "http://127.0.0.1:8000"
    grpc_target: str = "127.0.0.1:50051"
    note: str = ""
    # Against the framework floor (floor_services) instead of the real services: the page says so.
    floor: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    target_rps: float
    users: int
    out_dir: Path
    summary: RunSummary | None
    holds: bool
    why: str
    # CPU milliseconds per request by component over the measured stretch (cpu_window).
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    # 2 for the rerun of a step whose first run failed.
    attempt: int = 1

    @property
    def mixed(self) -> Figures | None:
        return self.summary.journey(MIXED) if self.summary else None


def step_holds(
    mixed: Figures | None, *, target_rps: float, p99_limit_ms: float, min_delivered_share: float
) -> tuple[bool, str]:
    """Whether one step held, and if not, why (first reason)."""
    if mixed is None or not mixed.requests:
        return False, "no requests measured"
    if mixed.failures:
        return False, f"{mixed.failures} failures"
    if mixed.p99_ms > p99_limit_ms:
        return False, f"p99 {mixed.p99_ms:.0f} ms > {p99_limit_ms:.0f} ms"
    if mixed.rps < min_delivered_share * target_rps:
        return False, f"delivered {mixed.rps:.0f} of {target_rps:.0f} req/s offered"
    return True, "held"
