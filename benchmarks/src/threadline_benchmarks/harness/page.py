"""A benchmark's page: docs/benchmarks/<name>.md and, beside it, <name>.json; the run's context.

Hand-written reading notes below `NOTES_MARKER` in a page survive a regeneration of the
figures above it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from threadline_native.paths import find_project_root

__all__ = [
    "NOTES_MARKER",
    "RESULTS",
    "ROOT",
    "commit",
    "load_average",
    "machine",
    "portable",
    "write_page",
]

ROOT = find_project_root(Path(__file__).parent)
RESULTS = ROOT / "docs" / "benchmarks"
NOTES_MARKER = "<!-- notes: kept when the figures above are regenerated -->"


def write_page(markdown_path: Path, markdown: str, data: Any = None) -> None:
    """Write the page (keeping its notes) and, when `data` is given, the JSON beside it."""
    previous = markdown_path.read_text() if markdown_path.exists() else ""
    if NOTES_MARKER in previous and NOTES_MARKER not in markdown:
        markdown = markdown.rstrip("\n") + "\n\n" + previous[previous.index(NOTES_MARKER) :]
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown)
    if data is not None:
        markdown_path.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")


def portable(arguments: dict[str, Any]) -> dict[str, Any]:
    """Paths relative to the repository, so a committed JSON names no machine's directories."""
    return {
        name: os.path.relpath(value, ROOT) if isinstance(value, Path) else value
        for name, value in arguments.items()
    }


def commit() -> str:
    """The short hash of HEAD, or "" outside a git checkout."""
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=10,
    )
    return completed.stdout.strip()


def load_average() -> str:
    """The 1/5/15-minute load averages, "1.2, 0.9, 0.7": the machine is shared."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def machine() -> list[str]:
    """CPU model and count, memory, OS and Python, as Markdown list items."""
    cpu_model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory = f"{int(first[1]) / 1024 / 1024:.1f} GiB"
    return [
        f"- CPU: {os.cpu_count()} x {cpu_model}",
        f"- memory: {memory}",
        f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
    ]
