"""Render templates/service with copier into a scratch directory, then move the files in.

copier runs with the repository as its working directory and the template's path relative to
it, so the answers file records `_src_path: templates/service`, not a path of this machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from copier import run_copy

from threadline_native.scaffold.registry import REGISTRY_FILE
from threadline_native.scaffold.spec import ServiceSpec
from threadline_native.scaffold.transaction import FileTransaction

TEMPLATE = Path("templates") / "service"
CONTRACTS = Path("libs") / "contracts"


def answers(spec: ServiceSpec) -> dict[str, object]:
    return {"name": spec.name, "kind": spec.kind, "port": spec.port, "admin_port": spec.admin_port}


def render(root: Path, spec: ServiceSpec, scratch: Path) -> list[Path]:
    """Render the template for ``spec`` into ``scratch``; the files it wrote, relative."""
    # The template reads the registry (its port defaults) from the destination.
    (scratch / REGISTRY_FILE).parent.mkdir(parents=True)
    shutil.copyfile(root / REGISTRY_FILE, scratch / REGISTRY_FILE)
    with contextlib.chdir(root):
        run_copy(
            str(TEMPLATE),
            scratch,
            data=answers(spec),
            defaults=True,
            skip_tasks=True,
            quiet=True,
        )
    (scratch / REGISTRY_FILE).unlink()
    return sorted(p.relative_to(scratch) for p in scratch.rglob("*") if p.is_file())


def rendered_files(root: Path, spec: ServiceSpec) -> list[Path]:
    """What the template writes for ``spec`` (rendered aside, nothing touched)."""
    with tempfile.TemporaryDirectory(prefix="threadline-service-") as scratch:
        return render(root, spec, Path(scratch))


def move_in(tx: FileTransaction, spec: ServiceSpec, scratch: Path, files: list[Path]) -> None:
    clashes = [str(f) for f in files if (tx.root / f).exists()]
    if clashes:
        raise FileExistsError(f"the service's files exist already: {', '.join(clashes)}")
    tx.created_dir(spec.directory)
    for relative in files:
        target = tx.touch(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(scratch / relative, target)


def contracts_dir(spec: ServiceSpec) -> Path:
    return CONTRACTS / "src" / "threadline_contracts" / spec.name


def generate_contracts(tx: FileTransaction, spec: ServiceSpec) -> None:
    """`make proto`: the service's proto into threadline_contracts.<name> (gRPC services)."""
    if spec.kind == "grpc":
        tx.created_dir(contracts_dir(spec))
    _run([sys.executable, str(CONTRACTS / "generate.py")], tx.root, "make proto")


def tidy(tx: FileTransaction, spec: ServiceSpec) -> None:
    """Sort the imports and format the service's code with the project's ruff settings.

    The template is written for a name like `payment`; where the service's name sorts among
    the other first-party packages, and how long its lines get, depend on the name. Run after
    the registrations, which make the package first-party for isort.
    """
    ruff = [sys.executable, "-m", "ruff"]  # --no-cache: a rolled-back run leaves nothing
    _run(
        [*ruff, "check", "--no-cache", "--fix", "--select", "I", "--quiet", spec.directory],
        tx.root,
        "ruff",
    )
    _run([*ruff, "format", "--no-cache", "--quiet", spec.directory], tx.root, "ruff format")


def uv_executable(root: Path) -> str:
    cached = root / ".threadline" / "cache" / "uv" / "bin" / "uv"
    found = os.environ.get("UV") or (str(cached) if cached.exists() else shutil.which("uv"))
    if not found:
        raise FileNotFoundError("uv is not installed: run `make setup`")
    return found


def lock(tx: FileTransaction) -> None:
    """uv.lock follows the workspace's members (a new one, or one fewer)."""
    tx.touch("uv.lock")
    _run([uv_executable(tx.root), "lock", "--quiet"], tx.root, "uv lock")


def _run(argv: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {(result.stderr or result.stdout)[-2000:]}")
