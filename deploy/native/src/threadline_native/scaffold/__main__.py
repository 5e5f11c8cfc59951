"""The command line of `make new-service` / `make remove-service`: one line per outcome."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from threadline_native.paths import find_project_root
from threadline_native.scaffold.operations import new_service, register_rendered, remove_service
from threadline_native.scaffold.spec import SpecError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m threadline_native.scaffold")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create services/NAME from templates/service")
    new.add_argument("name")
    new.add_argument("--kind", required=True)
    new.add_argument("--port", type=int)
    new.add_argument("--admin-port", type=int)
    remove = commands.add_parser("remove", help="undo what `new` did for NAME")
    remove.add_argument("name")
    register = commands.add_parser("register", help="register a service `copier copy` wrote")
    register.add_argument("name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = find_project_root()
    try:
        if args.command == "remove":
            spec = remove_service(root, name=args.name)
            print(f"removed services/{spec.name} and every registration of it")
            return 0
        if args.command == "new":
            spec, registered = new_service(
                root, name=args.name, kind=args.kind, port=args.port, admin_port=args.admin_port
            )
        else:
            spec, registered = register_rendered(root, args.name)
    except (SpecError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"created services/{spec.name} ({spec.kind}, port {spec.port}, admin {spec.admin_port});"
        f" registered: {', '.join(registered)}, native stack and make verify (from "
        "deploy/services.yaml), SLO rules and promtool test.\n"
        "Next: make test && make up && make verify"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
