"""`make bench-user`: the user service's benchmark, plugged into the shared harness.

GET by id (near-cache hit, Redis hit, cache miss) and the token endpoint against a bare route,
and where a hit's CPU goes; page docs/benchmarks/user.md (and .json).
"""

from __future__ import annotations

from threadline_benchmarks.harness.service_benchmark import ServiceBenchmark
from threadline_benchmarks.user.measure import measure, options
from threadline_benchmarks.user.page import write_report

BENCHMARK = ServiceBenchmark(
    name="user",
    summary="User service: GET by id (cache hit/miss) and token p50/p99 vs a bare route",
    data_stores=("postgres", "redis"),
    options=options,
    measure=measure,
    write=lambda figures, args: write_report(
        figures.results, figures.layers, figures.settings, args.out
    ),
)
