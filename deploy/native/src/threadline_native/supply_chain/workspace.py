"""The workspace as the supply-chain tools see it: uv, its members and the service images.

A service image's dependency set is whatever its Dockerfile's `uv sync` installs, so the
arguments are read from the Dockerfile itself rather than repeated here: change the image's
install and its SBOM follows.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SupplyChainError(RuntimeError):
    """A step the SBOM or the audit needs did not work; the message says which and why."""


def canonical_name(name: str) -> str:
    """PEP 503: `PyYAML`, `pydantic_core` and `zope.event` compare as their index names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def uv_executable() -> str:
    """The uv that runs this process (`uv run` sets $UV), else the one on PATH."""
    if uv := os.environ.get("UV") or shutil.which("uv"):
        return uv
    raise SupplyChainError("uv not found: run this through `make` (or set UV)")


def run_uv(root: Path, *args: str, environment: dict[str, str] | None = None) -> str:
    """Run uv in the workspace root and return what it printed; its stderr if it fails."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # not the project's .venv
    env.update(environment or {})
    done = subprocess.run(
        [uv_executable(), *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SupplyChainError(f"uv {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Member:
    """One package of the uv workspace: first-party code, licensed as the repository is."""

    name: str
    pyproject: Path


def workspace_members(root: Path) -> list[Member]:
    patterns = _root_config(root)["tool"]["uv"]["workspace"]["members"]
    members = []
    for pattern in patterns:
        for directory in sorted(root.glob(pattern)):
            if (pyproject := directory / "pyproject.toml").is_file():
                name = tomllib.loads(pyproject.read_text())["project"]["name"]
                members.append(Member(name=canonical_name(name), pyproject=pyproject))
    return members


def workspace_licence(root: Path) -> str:
    """The repository's licence (PEP 639 expression in the root pyproject.toml)."""
    licence = _root_config(root)["project"]["license"]
    if not isinstance(licence, str):
        raise SupplyChainError("the root pyproject.toml's project.license is not an SPDX string")
    return licence


def _root_config(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text())


@dataclass(frozen=True)
class ServiceImage:
    """A service's container image, as far as its Python packages go."""

    service: str
    dockerfile: Path
    python_version: str
    sync_args: tuple[str, ...]

    @property
    def package(self) -> str:
        """The workspace package the image installs (`uv sync --package <name>`)."""
        return self.sync_args[self.sync_args.index("--package") + 1]


def service_images(root: Path) -> list[ServiceImage]:
    return [read_image(dockerfile) for dockerfile in sorted(root.glob("services/*/Dockerfile"))]


def read_image(dockerfile: Path) -> ServiceImage:
    """The Python version and `uv sync` arguments a service's Dockerfile builds with."""
    text = dockerfile.read_text().replace("\\\n", " ")  # one logical line per instruction
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)", text, re.MULTILINE)
    sync = re.search(r"\buv sync\b([^\n]*)", text)
    if python is None or sync is None:
        raise SupplyChainError(f"{dockerfile}: no `ARG PYTHON_VERSION=` or `uv sync` line")
    args = []
    for token in shlex.split(sync.group(1)):
        if token in {"&&", "||", ";", "|"}:
            break
        args.append(token)
    if "--package" not in args:
        raise SupplyChainError(f"{dockerfile}: its `uv sync` names no --package")
    return ServiceImage(
        service=dockerfile.parent.name,
        dockerfile=dockerfile,
        python_version=python.group(1),
        sync_args=tuple(args),
    )


def install(root: Path, *, sync_args: Sequence[str], python: str, target: Path) -> Path:
    """Make `target` a virtual environment holding exactly what `uv sync <sync_args>` installs."""
    run_uv(
        root,
        "sync",
        *sync_args,
        "--python",
        python,
        "--quiet",
        environment={"UV_PROJECT_ENVIRONMENT": str(target)},
    )
    return target / "bin" / "python"


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise SupplyChainError(f"{venv} has no lib/python*/site-packages")
    return found[0]


def exported_requirements(root: Path, *export_args: str) -> dict[str, str]:
    """Name -> the marker it carries (empty: always), per `uv export --frozen <export_args>`."""
    text = run_uv(
        root,
        "export",
        "--frozen",
        "--format",
        "requirements-txt",
        "--no-hashes",
        "--no-header",
        "--no-annotate",
        "--no-emit-workspace",
        *(arg for arg in export_args if arg != "--frozen"),  # given once above
    )
    requirements: dict[str, str] = {}
    for line in text.splitlines():
        if match := re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==\S+\s*(?:;\s*(.*))?$", line.strip()):
            name, marker = canonical_name(match.group(1)), match.group(2) or ""
            # One name may be locked at several versions, one per Python range: either applies.
            if name in requirements:
                earlier = requirements[name]
                marker = f"({earlier}) or ({marker})" if earlier and marker else ""
            requirements[name] = marker
    return requirements
