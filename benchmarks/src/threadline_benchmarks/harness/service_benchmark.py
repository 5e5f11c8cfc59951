"""A service's benchmark as a few declared parts; the harness runs them and writes the page.

A service (a generated one too) plugs in with one `ServiceBenchmark`: the data stores it needs,
its options, what it measures and how its page reads. `run_benchmark` parses the command line
(every benchmark takes `--out`, the page's path, default docs/benchmarks/<name>.md), starts the
data stores that do not answer yet, measures and writes the page and its JSON.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from threadline_benchmarks.harness.data_stores import ensure_data_stores
from threadline_benchmarks.harness.page import RESULTS

__all__ = ["ServiceBenchmark", "run_benchmark"]

Figures = TypeVar("Figures")


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A benchmark with nothing to tune."""


@dataclass(frozen=True, slots=True)
class ServiceBenchmark(Generic[Figures]):
    # make bench-<name>; the page docs/benchmarks/<name>.md (and .json)
    name: str
    summary: str
    # The stack's data stores it runs against ("postgres", "redis", "kafka").
    data_stores: tuple[str, ...]
    # What it measures, from the parsed options; the figures go to `write`.
    measure: Callable[[argparse.Namespace], Figures]
    # The page and its JSON at options.out.
    write: Callable[[Figures, argparse.Namespace], None]
    options: Callable[[argparse.ArgumentParser], None] = _no_options


def run_benchmark(benchmark: ServiceBenchmark[Any], argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, bring up the data stores, measure, write the page; the exit status."""
    parser = argparse.ArgumentParser(prog=f"bench-{benchmark.name}", description=benchmark.summary)
    parser.add_argument("--out", type=Path, default=RESULTS / f"{benchmark.name}.md")
    benchmark.options(parser)
    options = parser.parse_args(argv)
    ensure_data_stores(benchmark.data_stores)
    figures = benchmark.measure(options)
    benchmark.write(figures, options)
    print(f"bench-{benchmark.name}: wrote {options.out}")
    return 0
