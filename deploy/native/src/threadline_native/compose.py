"""The same stack under Docker compose, used when a Docker engine answers."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from threadline_native.paths import Layout


def engine_available() -> bool:
    """True when a Docker engine (not just the client) answers within a few seconds."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=8,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def compose_command(layout: Layout, *args: str) -> list[str]:
    """`docker compose` with the project's file and versions.env for interpolation."""
    return [
        "docker",
        "compose",
        "--project-name",
        "threadline",
        "--env-file",
        str(layout.versions_file),
        "-f",
        str(layout.compose_dir / "compose.yaml"),
        *args,
    ]


def run(layout: Layout, args: Sequence[str]) -> int:
    """Run one compose command in the foreground; its output goes straight to the terminal."""
    return subprocess.run(compose_command(layout, *args), check=False).returncode
