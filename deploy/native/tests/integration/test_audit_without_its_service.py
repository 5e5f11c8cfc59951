"""`make audit` without its vulnerability service: "not checked", status 3, never "clean".

Not marked `integration`: it needs no server. The service is made unreachable with a proxy
nobody listens on, and a fresh cache, so nothing cached can answer in its place.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from threadline_native.net import free_port
from threadline_native.paths import find_project_root
from threadline_native.supply_chain.audit import Status

ROOT = find_project_root(Path(__file__).parent)


def test_an_audit_that_cannot_reach_its_service_says_not_checked_and_exits_3(
    tmp_path: Path,
) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    environment = {
        **os.environ,
        "HTTPS_PROXY": nothing_listens,
        "https_proxy": nothing_listens,
        "NO_PROXY": "",
        "no_proxy": "",
    }

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "threadline_native.supply_chain.audit",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == Status.NOT_CHECKED, done.stdout + done.stderr
    assert done.stdout.startswith("not checked: "), done.stdout
    assert "proxy" in done.stdout.lower(), done.stdout
