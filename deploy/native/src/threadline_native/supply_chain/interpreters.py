"""Which Python installs an image's packages here: the image's own version, or a stand-in.

The image's Python (its Dockerfile's `ARG PYTHON_VERSION`) is found the way `make PYTHON=3.13`
finds one (deploy/native/find-python.sh: PATH, pyenv, uv). A machine without it uses the
interpreter running this tool instead, but only when uv.lock selects the very same packages for
both versions (every environment marker of the image's export evaluates alike); otherwise the
SBOM would describe another image, and this refuses with the packages that differ.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker

from threadline_native.supply_chain.workspace import (
    ServiceImage,
    SupplyChainError,
    exported_requirements,
)


@dataclass(frozen=True)
class Interpreter:
    """What to hand `uv sync --python`, and a note for the SBOM when it stands in for another."""

    python: str
    stand_in_note: str = ""


def running_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def image_interpreter(root: Path, image: ServiceImage) -> Interpreter:
    wanted = image.python_version
    if found := find_python(root, wanted):
        return Interpreter(python=found)
    here = running_version()
    requirements = exported_requirements(root, *image.sync_args)
    differing = sorted(
        name
        for name, marker in requirements.items()
        if marker and applies(marker, wanted) != applies(marker, here)
    )
    if differing:
        raise SupplyChainError(
            f"{image.dockerfile.name} of {image.service}: Python {wanted} is not on this machine,"
            f" and uv.lock installs other packages under {here} ({', '.join(differing)});"
            f" install Python {wanted} (see deploy/native/find-python.sh)"
        )
    return Interpreter(
        python=sys.executable,
        stand_in_note=f"installed with Python {here}: the image's {wanted} is not on this machine,"
        " and uv.lock selects the same packages for both",
    )


def find_python(root: Path, version: str) -> str | None:
    """The path of a CPython `version` on this machine, as `make PYTHON=<version>` finds it."""
    if version == running_version():
        return sys.executable
    script = root / "deploy" / "native" / "find-python.sh"
    if not script.is_file():
        return None
    done = subprocess.run(
        ["bash", str(script), version], capture_output=True, text=True, check=False
    )
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else None


def applies(marker: str, python_version: str) -> bool:
    """Whether an environment marker holds on this platform under Python `python_version`."""
    major, minor = python_version.split(".")[:2]
    return Marker(marker).evaluate(
        {"python_version": f"{major}.{minor}", "python_full_version": f"{major}.{minor}.0"}
    )
