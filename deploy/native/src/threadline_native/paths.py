"""Where the project, its configuration and its git-ignored state and caches live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MARKER = Path("deploy") / "versions.env"


def find_project_root(start: Path | None = None) -> Path:
    """The repository root: $THREADLINE_ROOT, or the nearest parent with deploy/versions.env."""
    if env_root := os.environ.get("THREADLINE_ROOT"):
        return Path(env_root).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    # Installed in the workspace's venv, the package still knows where its sources live.
    package_root = Path(__file__).resolve().parents[4]
    if (package_root / _MARKER).is_file():
        return package_root
    raise FileNotFoundError(f"no {_MARKER} above {here}; run from inside the Threadline checkout")


@dataclass(frozen=True)
class Layout:
    """The project's directories; everything under `.threadline/` is git-ignored."""

    root: Path

    @property
    def versions_file(self) -> Path:
        return self.root / _MARKER

    @property
    def compose_dir(self) -> Path:
        return self.root / "deploy" / "compose"

    @property
    def state_dir(self) -> Path:
        """Data directories, pid files and logs of the native processes."""
        return self.root / ".threadline" / "state"

    @property
    def cache_dir(self) -> Path:
        """Fetched jars and built binaries, reused by every later run."""
        return self.root / ".threadline" / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.state_dir / "pids"

    def data_dir(self, component: str) -> Path:
        return self.state_dir / component

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"
