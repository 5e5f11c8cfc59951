"""The arms of the observability overhead benchmark, its load settings and one measurement."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "ARMS",
    "DEFAULT_ARMS",
    "DEFAULT_RATIO",
    "GRPC_CONNECTIONS",
    "GRPC_STREAMS",
    "HTTP_CONNECTIONS",
    "ROUNDS",
    "SECONDS",
    "WARMUP_SECONDS",
    "Arm",
    "Measurement",
]

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
WARMUP_SECONDS = 1
HTTP_CONNECTIONS = 64
GRPC_CONNECTIONS, GRPC_STREAMS = 4, 16
DEFAULT_RATIO = 0.1


@dataclass(frozen=True)
class Arm:
    name: str
    instrumentation: str
    ratio: float | None


_COMMON = (
    Arm("bare", "bare", None),
    Arm("library @1.0", "library", 1.0),
    Arm(f"library @{DEFAULT_RATIO}", "library", DEFAULT_RATIO),
    Arm("contrib @1.0", "contrib", 1.0),
    Arm(f"contrib @{DEFAULT_RATIO}", "contrib", DEFAULT_RATIO),
)
ARMS = {
    "http": (
        *_COMMON,
        Arm("fastapi-native @1.0", "native", 1.0),
        Arm(f"fastapi-native @{DEFAULT_RATIO}", "native", DEFAULT_RATIO),
    ),
    "grpc": _COMMON,
}
# The arms a run measures unless --arms names some.
DEFAULT_ARMS = frozenset(arm.name for arms in ARMS.values() for arm in arms)


@dataclass
class Measurement:
    protocol: str
    arm: str
    round: int
    requests_per_second: float
    cpu_microseconds_per_request: float
