"""`make bench-floor`: the benchmark's steps against the frameworks alone (floor_services).

The floor services take the user API's and the order service's ports, because the benchmark
finds each component's CPU by the port it listens on; so the stack must be down. The page
(docs/benchmarks/floor.md) says what the load generator and the bare frameworks cost at each
offered load: what is left of the two cores is all the real services can spend on their work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import urlsplit

from threadline_benchmarks.load.search import port_answers, run_bench
from threadline_benchmarks.load.steps import BenchSettings
from threadline_loadtests.stub_services import running_stand_in

__all__ = ["PortsBusyError", "run_floor", "running_floor"]

FLOOR_SERVICES = "threadline_benchmarks.load.floor_services"


class PortsBusyError(RuntimeError):
    """Something already answers on a port the floor services need."""


@contextmanager
def running_floor(settings: BenchSettings) -> Iterator[BenchSettings]:
    """The floor services on the benchmark's ports for the block; the settings to run against."""
    http_port = urlsplit(settings.host).port or 80
    grpc_port = int(settings.grpc_target.rsplit(":", 1)[1])
    busy = [port for port in (http_port, grpc_port) if port_answers(port)]
    if busy:
        raise PortsBusyError(
            f"port(s) {', '.join(map(str, busy))} already answer: stop the stack first "
            "(`make down`); the floor services need them, since CPU is counted by port"
        )
    with (
        running_stand_in(FLOOR_SERVICES, "http", "--port", str(http_port)),
        running_stand_in(
            FLOOR_SERVICES, "grpc", "--port", str(grpc_port), "--user-port", str(http_port)
        ),
    ):
        yield replace(settings, floor=True)


def run_floor(settings: BenchSettings) -> int:
    """Start the floor services on the benchmark's ports, run its steps, stop them."""
    with running_floor(settings) as floor:
        return run_bench(floor)
