"""`make setup` on a newcomer's machine: a fresh copy, a temporary HOME, the system PATH, no uv.

These run the real deploy/native/setup.sh on a copy of the tracked files with nothing of the
caller's: uv, its environment, its download cache (under the temporary HOME) and the workspace's
.venv are all made from nothing, and no certificate variable is passed, so a TLS-inspecting
proxy's CA must come from the system store as it would for a newcomer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_native.paths import find_project_root

pytestmark = pytest.mark.e2e

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UV_IN_CACHE = Path(".threadline/cache/uv/bin/uv")


def _copy_working_tree(target: Path) -> None:
    root = find_project_root(Path(__file__).parent)
    # Tracked files and new ones not ignored: a clone has exactly the tracked ones, and a service
    # just made by `make new-service` (not committed yet) is listed in the workspace already.
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = root / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)


def _clean_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def fresh_clone() -> Iterator[Path]:
    """A copy of the tracked files that every account can read (see the no-root test)."""
    top = Path(tempfile.mkdtemp(prefix="threadline-fresh-"))
    top.chmod(0o755)
    clone = top / "threadline"
    _copy_working_tree(clone)
    yield clone
    shutil.rmtree(top, ignore_errors=True)


def _setup(clone: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "deploy/native/setup.sh"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _snapshot(clone: Path) -> dict[str, float]:
    """Modification times of what setup installs: uv, and the workspace's installed packages."""
    site = clone / ".venv" / "lib"
    watched = [clone / UV_IN_CACHE, *site.glob("python*/site-packages/*.dist-info")]
    return {str(path): path.stat().st_mtime for path in watched}


@pytest.mark.skipif(shutil.which("uv", path=SYSTEM_PATH) is not None, reason="uv on system PATH")
def test_setup_then_lint_work_from_nothing_and_a_second_setup_changes_nothing(
    fresh_clone: Path, tmp_path: Path
) -> None:
    env = _clean_env(tmp_path)

    first = _setup(fresh_clone, env)
    assert first.returncode == 0, first.stdout + first.stderr
    # It says where uv went, and uv is there; nothing was put on anyone's PATH.
    assert f"uv is at {fresh_clone / UV_IN_CACHE}" in first.stdout
    assert (fresh_clone / UV_IN_CACHE).is_file()
    assert not (tmp_path / ".local" / "bin" / "uv").exists()

    # `make lint`'s first step finds that uv with nothing but the system PATH.
    ruff = subprocess.run(
        ["make", "-s", "ruff"],
        cwd=fresh_clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    assert "All checks passed!" in ruff.stdout

    before = _snapshot(fresh_clone)
    began = time.monotonic()
    second = _setup(fresh_clone, env)
    elapsed = time.monotonic() - began
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout == "", "a second setup installed something"
    assert _snapshot(fresh_clone) == before
    assert elapsed < 3.0, f"a second setup took {elapsed:.1f}s"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run setup as an unprivileged account")
def test_without_root_or_sudo_setup_names_the_apt_command_and_stops_first(
    fresh_clone: Path,
) -> None:
    # An account that may not install packages, on a PATH where the servers' commands are absent.
    bare = Path(tempfile.mkdtemp(prefix="threadline-bare-path-"))
    bare.chmod(0o755)
    for tool in ("bash", "dirname", "sed", "id", "python3", "env", "sudo"):
        if found := shutil.which(tool, path=SYSTEM_PATH):
            (bare / tool).symlink_to(found)
    clone = fresh_clone.parent / "unprivileged"
    shutil.copytree(fresh_clone, clone, ignore=shutil.ignore_patterns(".venv", ".threadline"))
    try:
        result = subprocess.run(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                "env",
                "-i",
                f"PATH={bare}",
                "HOME=/nonexistent",
                "bash",
                "deploy/native/setup.sh",
            ],
            cwd=clone,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(bare, ignore_errors=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "sudo apt-get update && sudo apt-get install -y" in result.stderr
    for package in ("redis-server", "openjdk-17-jre-headless", "maven"):
        assert package in result.stderr
    # It stopped before anything else ran: no uv, no workspace environment.
    assert not (clone / ".threadline").exists()
    assert not (clone / ".venv").exists()
