"""`python -m threadline_benchmarks NAME [options]`: run one benchmark (`--list` names them).

Each `make bench-*` target calls one of these; BENCH_ARGS are its options.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from threadline_benchmarks.harness.service_benchmark import ServiceBenchmark, run_benchmark

__all__ = ["BENCHMARKS", "main"]

# name -> (make target, "module:attribute"); the attribute is a ServiceBenchmark or a
# main(argv) -> exit status. Imported only when run: each pulls in what it measures.
BENCHMARKS = {
    "load": ("bench", "threadline_benchmarks.load.cli:bench"),
    "floor": ("bench-floor", "threadline_benchmarks.load.cli:floor"),
    "user": ("bench-user", "threadline_benchmarks.user.benchmark:BENCHMARK"),
    "order": ("bench-order", "threadline_benchmarks.order.benchmark:BENCHMARK"),
    "observability": ("bench-observability", "threadline_benchmarks.observability.overhead:main"),
    "observability-inprocess": ("", "threadline_benchmarks.observability.inprocess:main"),
    "toxiproxy": ("bench-toxiproxy", "threadline_benchmarks.toxiproxy:main"),
    "stack": ("bench-stack", "threadline_benchmarks.stack:main"),
    "compare": ("bench-compare", "threadline_benchmarks.load.cli:compare"),
}


def resolve(name: str) -> Callable[[Sequence[str]], int]:
    """The entry point of benchmark `name`, ready to take its command-line options."""
    module, attribute = BENCHMARKS[name][1].split(":")
    target = getattr(import_module(module), attribute)
    if isinstance(target, ServiceBenchmark):
        benchmark = target
        return lambda argv: run_benchmark(benchmark, argv)
    entry: Callable[[Sequence[str]], int] = target
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("--list", "-h", "--help"):
        print(__doc__.splitlines()[0])
        for name, (target, _) in BENCHMARKS.items():
            print(f"  {name:24} {('make ' + target) if target else ''}")
        return 0
    name, *options = arguments
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    return resolve(name)(options)
