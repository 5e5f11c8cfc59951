"""Entry point of `make verify`; see the package docstring."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from threadline_native.paths import Layout, find_project_root
from threadline_native.verify.endpoints import Endpoints, Mode, recorded_mode
from threadline_native.verify.report import print_links, print_table
from threadline_native.verify.run import Plan, run_all

REPORTS_SUBDIR = ("reports", "verify")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make verify", description="Prove every link between traces, logs and metrics."
    )
    parser.add_argument(
        "--backends-only",
        action="store_true",
        help="check the pipelines with the synthetic probe only (the services need not run)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds each link may take to appear"
    )
    parser.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        default=None,
        help="the stack's mode (default: the one `make up` recorded, else native)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    layout = Layout(find_project_root())
    mode = Mode(options.mode) if options.mode else recorded_mode(layout)
    scope = ", backends only" if options.backends_only else ""
    print(f"make verify: {mode} stack{scope}", flush=True)
    verification = run_all(
        Plan(
            endpoints=Endpoints(),
            mode=mode,
            compose_dir=layout.compose_dir,
            reports_dir=layout.root.joinpath(*REPORTS_SUBDIR),
            backends_only=options.backends_only,
            timeout=options.timeout,
        )
    )
    if verification.stopped:
        for result in verification.results:
            print(f"  {result.detail}", file=sys.stderr)
        return 1
    print_table(verification.results)
    print_links(verification.links)
    return 0 if verification.ok else 1


if __name__ == "__main__":
    sys.exit(main())
