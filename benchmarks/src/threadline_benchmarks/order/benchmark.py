"""`make bench-order`: the order service's benchmark, plugged into the shared harness.

RPC throughput and p50/p99 against a bare grpc.aio method, the outbox relay's events/s and
commit-to-consumed latency; page docs/benchmarks/order.md (and .json).
"""

from __future__ import annotations

from threadline_benchmarks.harness.service_benchmark import ServiceBenchmark
from threadline_benchmarks.order.measure import measure, options
from threadline_benchmarks.order.page import report

BENCHMARK = ServiceBenchmark(
    name="order",
    summary="Order service: RPC throughput/p99 vs bare grpc.aio, relay events/s, "
    "commit-to-consumed p99",
    data_stores=("postgres", "kafka"),
    options=options,
    measure=measure,
    write=lambda results, args: report(results, args.out),
)
