"""The load test's own command line options, added to Locust's (`locust --help` lists them)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_TRACE_SAMPLE_RATIO", "LoadOptions", "add_arguments"]

DEFAULT_GRPC_TARGET = "127.0.0.1:50051"
# The services' own default (OTEL_TRACES_SAMPLER_ARG): their samplers follow the load
# generator's decision, so this keeps a load run's tracing cost the production one. Use 1 to
# trace every request of a run.
DEFAULT_TRACE_SAMPLE_RATIO = 0.1


@dataclass(frozen=True, slots=True)
class LoadOptions:
    grpc_target: str = DEFAULT_GRPC_TARGET
    # Requests per second each user aims at (Locust's constant_throughput): users x this is the
    # offered load, so a run's load is chosen, not discovered.
    user_rps: float = 2.0
    accounts: int = 20
    # Accounts prepared by the driver before Locust started (JSON); empty: prepare on start.
    accounts_file: str = ""
    # Seconds between two sign-ups of the one new-customer user: logins are throttled per
    # client address, and argon2id is meant to be expensive.
    signup_pacing_seconds: float = 5.0
    trace_sample_ratio: float = DEFAULT_TRACE_SAMPLE_RATIO
    otlp_endpoint: str = ""
    summary_file: str = ""
    slowest_per_name: int = 5
    # Announce the measured stretch's ends in this file (the benchmark snapshots the stack then).
    cpu_marks_file: str = ""
    # Append each failed request, with its trace id, to this file (JSON lines; chaos drills).
    failures_file: str = ""

    @classmethod
    def from_parsed(cls, parsed: argparse.Namespace | None) -> LoadOptions:
        """Options from Locust's parsed command line; defaults where absent (library use)."""
        if parsed is None:
            return cls()
        values: dict[str, Any] = {
            name: getattr(parsed, name)
            for name in cls.__dataclass_fields__
            if getattr(parsed, name, None) is not None
        }
        return cls(**values)


def add_arguments(parser: Any) -> None:
    """Add our options to Locust's configargparse parser (also settable as LOAD_* variables)."""
    group = parser.add_argument_group("Threadline", "Threadline load test options")
    defaults = LoadOptions()
    group.add_argument(
        "--grpc-target",
        env_var="LOAD_GRPC_TARGET",
        default=defaults.grpc_target,
        help="host:port of the order service (gRPC); --host is the user service's base URL",
    )
    group.add_argument(
        "--user-rps",
        env_var="LOAD_USER_RPS",
        type=float,
        default=defaults.user_rps,
        help="requests per second each user aims at (offered load = users x this)",
    )
    group.add_argument(
        "--accounts",
        env_var="LOAD_ACCOUNTS",
        type=int,
        default=defaults.accounts,
        help="accounts registered and logged in before the run, shared by the users",
    )
    group.add_argument(
        "--accounts-file",
        env_var="LOAD_ACCOUNTS_FILE",
        default=defaults.accounts_file,
        help="accounts prepared beforehand (JSON, as written by the driver) instead of --accounts",
    )
    group.add_argument(
        "--signup-pacing-seconds",
        env_var="LOAD_SIGNUP_PACING_SECONDS",
        type=float,
        default=defaults.signup_pacing_seconds,
        help="seconds between sign-ups of the new-customer user",
    )
    group.add_argument(
        "--trace-sample-ratio",
        env_var="LOAD_TRACE_SAMPLE_RATIO",
        type=float,
        default=defaults.trace_sample_ratio,
        help="share of requests whose traces are sampled (the services follow this decision)",
    )
    group.add_argument(
        "--otlp-endpoint",
        env_var="LOAD_OTLP_ENDPOINT",
        default=defaults.otlp_endpoint,
        help="export the load generator's client spans there (e.g. http://127.0.0.1:4317)",
    )
    group.add_argument(
        "--summary-file",
        env_var="LOAD_SUMMARY_FILE",
        default=defaults.summary_file,
        help="write the run's figures, journeys and slowest traces there as JSON on exit",
    )
    group.add_argument(
        "--slowest-per-name",
        env_var="LOAD_SLOWEST_PER_NAME",
        type=int,
        default=defaults.slowest_per_name,
        help="slowest requests (with trace ids) kept per request name",
    )
    group.add_argument(
        "--cpu-marks-file",
        env_var="LOAD_CPU_MARKS_FILE",
        default=defaults.cpu_marks_file,
        help="append a line there when the measured stretch opens and closes (for make bench)",
    )
    group.add_argument(
        "--failures-file",
        env_var="LOAD_FAILURES_FILE",
        default=defaults.failures_file,
        help="append each failed request (time, name, trace id, error) to this JSON-lines file",
    )
