"""Entry point of `make verify`; see the package docstring."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from threadline_native.paths import Layout, find_project_root
from threadline_native.verify.backends import Endpoints
from threadline_native.verify.report import print_table
from threadline_native.verify.run import run_all


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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    results = run_all(
        Endpoints(),
        Layout(find_project_root()).compose_dir,
        backends_only=options.backends_only,
        timeout=options.timeout,
    )
    print_table(results)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
