"""The Alertmanager webhook recorder keeps every notification and refuses what is not one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_native.httpprobe import http_ok
from threadline_native.net import free_port
from threadline_native.paths import find_project_root
from threadline_native.verify.http import request

RECORDER = (
    find_project_root(Path(__file__).parent) / "deploy" / "compose" / "alertmanager" / "recorder.py"
)


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    record_file = tmp_path / "alerts.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(RECORDER), "--port", str(port), "--file", str(record_file)]
    )
    try:
        deadline = time.monotonic() + 10
        while not http_ok(port, "/healthz"):
            assert time.monotonic() < deadline, "recorder did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", record_file
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_records_each_notification_with_its_receiver(recorder: tuple[str, Path]) -> None:
    url, record_file = recorder
    payload = {"status": "firing", "alerts": [{"labels": {"alertname": "X", "severity": "page"}}]}
    assert request("POST", f"{url}/alerts/page", body=payload) == (200, {"recorded": 1})
    status, entries = request("GET", f"{url}/alerts")
    assert status == 200
    assert [(e["receiver"], e["payload"]) for e in entries] == [("page", payload)]
    assert json.loads(record_file.read_text())["receiver"] == "page"


def test_refuses_a_body_that_is_not_json(recorder: tuple[str, Path]) -> None:
    url, _ = recorder
    req = urllib.request.Request(f"{url}/alerts/page", data=b"not json", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(req, timeout=5)  # noqa: S310 - loopback test server
    with raised.value as error:
        assert error.code == 400


def test_unknown_paths_answer_404(recorder: tuple[str, Path]) -> None:
    url, _ = recorder
    assert request("POST", f"{url}/elsewhere", body={})[0] == 404
    assert request("GET", f"{url}/nothing")[0] == 404
