"""Generate threadline_contracts from services/order/proto (what `make proto` runs).

    python libs/contracts/generate.py            # rewrite src/threadline_contracts
    python libs/contracts/generate.py --out DIR  # write elsewhere (the freshness test)

protoc names Python modules after the proto file paths (`order/v1/order.proto` ->
`order.v1.order_pb2`); the imports between generated modules are rewritten to live under
`threadline_contracts`, so the packages `order` and `events` never become top-level names.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parents[1] / "services" / "order" / "proto"
PACKAGE = "threadline_contracts"
DEFAULT_OUT = HERE / "src" / PACKAGE
# Generated top-level directories (from the proto paths) that become subpackages.
TOP_LEVEL = ("order", "events")
_IMPORT = re.compile(rf"\b(?<![\w.])((?:{'|'.join(TOP_LEVEL)})\.v\d+)(?=[. ])")


def _protos() -> list[str]:
    return sorted(str(path.relative_to(PROTO_ROOT)) for path in PROTO_ROOT.rglob("*.proto"))


def _plugins() -> list[str]:
    # mypy-protobuf's plugins sit next to the interpreter; PATH may not include that directory.
    scripts = Path(sys.executable).parent
    names = ("protoc-gen-mypy", "protoc-gen-mypy_grpc")
    return [f"--plugin={name}={shutil.which(name) or scripts / name}" for name in names]


def _rewrite(text: str) -> str:
    def rewrite_line(line: str) -> str:
        if line.startswith(("from ", "import ")) or "_pb2." in line:
            # Only module paths: `order.v1` followed by `.x_pb2` or ` import`.
            return _IMPORT.sub(lambda match: f"{PACKAGE}.{match.group(1)}", line)
        return line

    return "".join(rewrite_line(line) for line in text.splitlines(keepends=True))


def generate(out: Path) -> None:
    """Write the generated package into ``out`` (its generated subpackages are replaced)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch)
        well_known = Path(protoc.__file__).parent / "_proto"
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{PROTO_ROOT}",
                f"-I{well_known}",
                *_plugins(),
                f"--python_out={raw}",
                f"--grpc_python_out={raw}",
                f"--mypy_out={raw}",
                f"--mypy_grpc_out={raw}",
                *_protos(),
            ]
        )
        if code != 0:
            raise SystemExit(f"protoc failed with exit code {code}")
        for top in TOP_LEVEL:
            shutil.rmtree(out / top, ignore_errors=True)
        for source in sorted(raw.rglob("*.py*")):
            target = out / source.relative_to(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_rewrite(source.read_text()))
        for directory in sorted({path.parent for path in out.rglob("*_pb2.py")}):
            for package in (directory, *directory.relative_to(out).parents):
                init = package if package.is_absolute() else out / package
                if init != out and not (init / "__init__.py").exists():
                    (init / "__init__.py").write_text("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    generate(args.out)
    print(f"generated {', '.join(_protos())} into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
