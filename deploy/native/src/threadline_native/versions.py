"""Read deploy/versions.env, the single source of every third-party version."""

from __future__ import annotations

from pathlib import Path


def load_versions(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments and blank lines ignored), as compose's env file does."""
    versions: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        versions[key.strip()] = value.strip().strip("\"'")
    return versions
