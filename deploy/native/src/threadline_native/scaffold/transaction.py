"""All or nothing: every file a step touches is snapshotted first and put back on failure."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self


class FileTransaction:
    """Snapshot files (and remember created paths) so that a failure leaves the tree as it was."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._before: dict[Path, bytes | None] = {}
        self._created_dirs: list[Path] = []
        self._removed_dirs: list[tuple[Path, Path]] = []
        self._backup = Path(tempfile.mkdtemp(prefix="threadline-scaffold-"))

    def touch(self, relative: str | Path) -> Path:
        """The path, its content before this transaction recorded (None: it did not exist)."""
        path = self.root / relative
        if path not in self._before:
            self._before[path] = path.read_bytes() if path.is_file() else None
        return path

    def created_dir(self, relative: str | Path) -> Path:
        path = self.root / relative
        self._created_dirs.append(path)
        return path

    def remove_dir(self, relative: str | Path) -> None:
        """Take a directory out of the tree (kept aside until the transaction ends)."""
        path = self.root / relative
        if path.exists():
            aside = self._backup / str(len(self._removed_dirs))
            shutil.move(path, aside)
            self._removed_dirs.append((path, aside))

    def rollback(self) -> None:
        for path in reversed(self._created_dirs):
            shutil.rmtree(path, ignore_errors=True)
        for path, aside in reversed(self._removed_dirs):
            shutil.move(aside, path)
        for path, content in self._before.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.rollback()
        shutil.rmtree(self._backup, ignore_errors=True)
