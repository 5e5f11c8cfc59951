"""`make build-backends`: build (or find cached) every Go-built backend; report how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from threadline_native.component import StackError
from threadline_native.components.goserver import GoServer
from threadline_native.stack import load_context, select


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    context = load_context()
    servers = [c for c in select(context, names) if isinstance(c, GoServer)]
    for server in servers:
        began = time.monotonic()
        try:
            server.prepare()
        except StackError as error:
            print(f"{server.name}: {error}", file=sys.stderr)
            return 1
        print(f"{server.title}: ready in {time.monotonic() - began:.1f}s -> {server.binary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
