"""`python -m threadline_loadtests`: run and judge Threadline under load.

The load benchmark (`make bench`, `make bench-floor`) is threadline_benchmarks.load.

python -m threadline_loadtests run     headless, bounded: HTML, CSV, PNG, verdict (exit 1: breach)
python -m threadline_loadtests ui      Locust's web UI (http://127.0.0.1:8089), judged when stopped
python -m threadline_loadtests report  judge an earlier run's directory again (e.g. other SLOs)
python -m threadline_loadtests generator-cost   the load generator's own CPU per request
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from threadline_loadtests.accounts import PreparationError
from threadline_loadtests.options import DEFAULT_TRACE_SAMPLE_RATIO
from threadline_loadtests.report import RunFailedError, report_run
from threadline_loadtests.runner import SHAPES, RunPlan, prepare_test_data, run_locust
from threadline_loadtests.slo import Objectives, SloFileError
from threadline_loadtests.verdict import TraceLinks

__all__ = ["AUTO", "main", "resolve_otlp_endpoint"]

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_SLO = PROJECT / "slo.toml"

EXIT_PASS, EXIT_BREACH, EXIT_ERROR = 0, 1, 2

AUTO = "auto"
LOCAL_COLLECTOR = "127.0.0.1:4317"


def _add_run_arguments(parser: argparse.ArgumentParser, *, out: str) -> None:
    defaults = RunPlan(out_dir=Path(out))
    parser.add_argument("--host", default=defaults.host, help="user service base URL")
    parser.add_argument("--grpc-target", default=defaults.grpc_target, help="order service")
    parser.add_argument("--users", type=int, default=defaults.users, help="(peak) users")
    parser.add_argument("--spawn-rate", type=float, default=defaults.spawn_rate)
    parser.add_argument("--run-time", default=defaults.run_time, help="e.g. 60s, 5m, 1h30m")
    parser.add_argument(
        "--user-rps", type=float, default=defaults.user_rps, help="requests/s per user"
    )
    parser.add_argument("--accounts", type=int, default=defaults.accounts)
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None)
    parser.add_argument("--trace-sample-ratio", type=float, default=defaults.trace_sample_ratio)
    parser.add_argument(
        "--otlp-endpoint",
        default=AUTO,
        help="export the client spans there; 'auto' (default): to the collector on "
        f"{LOCAL_COLLECTOR} when it answers; '' never",
    )
    parser.add_argument("--cpus", default=None, help="confine Locust: taskset -c CPUS")
    parser.add_argument(
        "--include-ramp-up",
        action="store_true",
        help="steady runs: also measure while users start (cold caches, pools, JWKS fetches)",
    )
    parser.add_argument("--out", type=Path, default=Path(out), help="reports directory")
    parser.add_argument("--slo", type=Path, default=DEFAULT_SLO, help="objectives (TOML)")
    parser.add_argument(
        "--no-trace-lookup",
        action="store_true",
        help="do not ask Jaeger (when it answers) whether the slowest traces arrived",
    )


def resolve_otlp_endpoint(choice: str) -> str:
    """Where the client spans go: `auto` means the local collector, if one is listening."""
    if choice != AUTO:
        return choice
    host, port = LOCAL_COLLECTOR.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return f"http://{LOCAL_COLLECTOR}"
    except OSError:
        return ""


def _plan(args: argparse.Namespace, *, headless: bool) -> RunPlan:
    return RunPlan(
        out_dir=args.out,
        host=args.host,
        grpc_target=args.grpc_target,
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        user_rps=args.user_rps,
        accounts=args.accounts,
        shape=args.shape,
        trace_sample_ratio=args.trace_sample_ratio,
        otlp_endpoint=resolve_otlp_endpoint(args.otlp_endpoint),
        cpus=args.cpus,
        # A steady run is judged on its steady state; a shape's transitions are its point.
        measure_after_spawn=args.shape is None and not args.include_ramp_up,
        headless=headless,
    )


def _judge(out_dir: Path, slo: Path, *, look_up_traces: bool = False) -> int:
    try:
        objectives = Objectives.load(slo)
        report = report_run(out_dir, objectives, links=TraceLinks(), look_up_traces=look_up_traces)
    except (SloFileError, RunFailedError) as error:
        print(f"load test: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(report.text)
    print(f"\nreports: {out_dir}/ (report.html, locust_*.csv, *.png, verdict.txt, summary.json)")
    return EXIT_PASS if report.passed else EXIT_BREACH


def _generator_cost(args: argparse.Namespace) -> int:
    from threadline_loadtests.generator_cost import (  # noqa: PLC0415 - only here
        measure_generator_cost,
        render_generator_doc,
    )

    load_before = os.getloadavg()
    costs = measure_generator_cost(
        out_dir=args.out,
        http_port=_free_port(),
        grpc_port=_free_port(),
        users=args.users,
        user_rps=args.user_rps,
        run_time=args.run_time,
        cpus=args.cpus,
        trace_sample_ratio=args.trace_sample_ratio,
    )
    page = render_generator_doc(
        costs,
        user_rps=args.user_rps,
        run_time=args.run_time,
        cpus=args.cpus,
        trace_sample_ratio=args.trace_sample_ratio,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(page)
    print(page)
    print(f"wrote {args.doc}")
    return EXIT_PASS if all(cost.cpu_us_per_request is not None for cost in costs) else EXIT_ERROR


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m threadline_loadtests", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_arguments(commands.add_parser("run", help="headless, bounded run"), out="reports/load")
    _add_run_arguments(commands.add_parser("ui", help="Locust's web UI"), out="reports/load-ui")
    judge = commands.add_parser("report", help="judge an earlier run again")
    judge.add_argument("out", type=Path)
    judge.add_argument("--slo", type=Path, default=DEFAULT_SLO)
    cost = commands.add_parser("generator-cost", help="the load generator's CPU per request")
    cost.add_argument("--doc", type=Path, default=Path("docs/benchmarks/load/generator.md"))
    cost.add_argument("--out", type=Path, default=Path("reports/generator-cost"))
    cost.add_argument("--users", type=int, default=40, help="users of each class, alone")
    cost.add_argument("--user-rps", type=float, default=10.0)
    cost.add_argument("--run-time", default="40s", help="per user class")
    cost.add_argument("--cpus", default="1", help="Locust's CPU(s), taskset -c")
    cost.add_argument("--trace-sample-ratio", type=float, default=DEFAULT_TRACE_SAMPLE_RATIO)
    args = parser.parse_args(argv)

    if args.command == "report":
        return _judge(args.out, args.slo)
    if args.command == "generator-cost":
        return _generator_cost(args)
    try:
        Objectives.load(args.slo)  # a broken SLO file should fail before the load, not after
    except SloFileError as error:
        print(f"load test: {error}", file=sys.stderr)
        return EXIT_ERROR
    plan = _plan(args, headless=args.command == "run")
    try:
        plan = prepare_test_data(plan)
    except (PreparationError, httpx.HTTPError) as error:
        print(f"load test: cannot prepare the test data at {plan.host}: {error}", file=sys.stderr)
        print("load test: is the stack up (`make up`)?", file=sys.stderr)
        return EXIT_ERROR
    if not plan.headless:
        print(f"Locust web UI: http://{plan.web_host}:{plan.web_port} (Ctrl+C to stop and judge)")
    run_locust(plan)
    return _judge(plan.out_dir, args.slo, look_up_traces=not args.no_trace_lookup)


if __name__ == "__main__":
    sys.exit(main())
