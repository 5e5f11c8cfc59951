"""Generate threadline_contracts from every services/*/proto (what `make proto` runs).

    python libs/contracts/generate.py            # rewrite src/threadline_contracts
    python libs/contracts/generate.py --out DIR  # write elsewhere (the freshness test)

protoc names Python modules after the proto file paths (`order/v1/order.proto` ->
`order.v1.order_pb2`); the imports between generated modules are rewritten to live under
`threadline_contracts`, so the packages (`order`, `events`, a generated service's own) never
become top-level names. Each service's proto directory is compiled on its own.
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
SERVICES = HERE.parents[1] / "services"
PACKAGE = "threadline_contracts"
DEFAULT_OUT = HERE / "src" / PACKAGE


def _proto_roots() -> list[Path]:
    return sorted(path for path in SERVICES.glob("*/proto") if path.is_dir())


def _protos(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.proto"))


# Generated top-level directories (from the proto paths) that become subpackages.
TOP_LEVEL = tuple(sorted({Path(p).parts[0] for r in _proto_roots() for p in _protos(r)}))
_IMPORT = re.compile(rf"\b(?<![\w.])((?:{'|'.join(TOP_LEVEL)})\.v\d+)(?=[. ])")


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
        for root in _proto_roots():
            code = protoc.main(
                [
                    "grpc_tools.protoc",
                    f"-I{root}",
                    f"-I{well_known}",
                    *_plugins(),
                    f"--python_out={raw}",
                    f"--grpc_python_out={raw}",
                    f"--mypy_out={raw}",
                    f"--mypy_grpc_out={raw}",
                    *_protos(root),
                ]
            )
            if code != 0:
                raise SystemExit(f"protoc failed with exit code {code} on {root}")
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
    protos = [proto for root in _proto_roots() for proto in _protos(root)]
    print(f"generated {', '.join(protos)} into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
