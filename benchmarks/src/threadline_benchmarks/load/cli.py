"""`make bench`, `make bench-floor` and `make bench-compare`: the load benchmark's options and
its three entry points."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from threadline_benchmarks.load.compare import run_compare
from threadline_benchmarks.load.floor import PortsBusyError, run_floor
from threadline_benchmarks.load.search import run_bench
from threadline_benchmarks.load.steps import BenchSettings
from threadline_loadtests.cli import AUTO, resolve_otlp_endpoint
from threadline_loadtests.options import DEFAULT_TRACE_SAMPLE_RATIO

__all__ = ["bench", "compare", "floor"]

EXIT_ERROR = 2


def _settings(
    argv: Sequence[str] | None,
    *,
    prog: str,
    doc: str,
    out: str,
    start_rps: float,
    max_rps: float = 2000.0,
) -> BenchSettings:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--doc", type=Path, default=Path(doc))
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--cpus", default="1", help="Locust's CPU(s), taskset -c")
    parser.add_argument("--step-time", default="45s", help="duration of each step")
    parser.add_argument("--start-rps", type=float, default=start_rps)
    parser.add_argument("--climb-rps", type=float, default=200.0, help="climb by this much")
    parser.add_argument("--user-rps", type=float, default=10.0, help="requests/s each user aims at")
    parser.add_argument("--max-rps", type=float, default=max_rps)
    parser.add_argument("--trace-sample-ratio", type=float, default=DEFAULT_TRACE_SAMPLE_RATIO)
    parser.add_argument("--otlp-endpoint", default=AUTO)
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--grpc-target", default="127.0.0.1:50051")
    parser.add_argument("--note", default="", help="a sentence for the report (setup caveats)")
    args = parser.parse_args(argv)
    return BenchSettings(
        doc=args.doc,
        out_dir=args.out,
        cpus=args.cpus,
        step_time=args.step_time,
        start_rps=args.start_rps,
        climb_step_rps=args.climb_rps,
        max_rps=args.max_rps,
        user_rps=args.user_rps,
        trace_sample_ratio=args.trace_sample_ratio,
        otlp_endpoint=resolve_otlp_endpoint(args.otlp_endpoint),
        host=args.host,
        grpc_target=args.grpc_target,
        note=args.note,
    )


def bench(argv: Sequence[str] | None = None) -> int:
    """Find the highest sustainable throughput of the mixed journey (docs/benchmarks/load.md)."""
    return run_bench(
        _settings(
            argv, prog="bench", doc="docs/benchmarks/load.md", out="reports/bench", start_rps=200.0
        )
    )


def floor(argv: Sequence[str] | None = None) -> int:
    """The same steps against the frameworks alone, stack down (docs/benchmarks/floor.md)."""
    settings = _settings(
        argv,
        prog="bench-floor",
        doc="docs/benchmarks/floor.md",
        out="reports/bench-floor",
        start_rps=800.0,
    )
    try:
        return run_floor(settings)
    except PortsBusyError as error:
        print(f"bench-floor: {error}", file=sys.stderr)
        return EXIT_ERROR


def compare(argv: Sequence[str] | None = None) -> int:
    """The floor, then the stack, same steps, one run; the ratio (docs/benchmarks/compare.md)."""
    settings = _settings(
        argv,
        prog="bench-compare",
        doc="docs/benchmarks/compare.md",
        out="reports/bench-compare",
        start_rps=200.0,
        # The floor climbs from the stack's start: it held 1800 req/s with room to spare.
        max_rps=3000.0,
    )
    try:
        return run_compare(settings)
    except PortsBusyError as error:
        print(f"bench-compare: {error}", file=sys.stderr)
        return EXIT_ERROR
