"""Every tool a build runs finds Go, also when the caller's PATH does not hold it."""

from __future__ import annotations

import shutil

import pytest

from threadline_native.component import StackError
from threadline_native.gobuild import go_env

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_the_build_environment_puts_go_on_path_for_tools_that_run_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A newcomer's shell: the system directories only; Go lives in /usr/local/go/bin.
    monkeypatch.setenv("PATH", SYSTEM_PATH)
    try:
        env = go_env()
    except StackError:
        pytest.skip("no Go on this machine, neither on PATH nor in /usr/local/go")
    # The Collector Builder looks `go` up on PATH itself: it must find the one we build with.
    assert shutil.which("go", path=env["PATH"]) is not None
    assert env["PATH"].endswith(SYSTEM_PATH)
