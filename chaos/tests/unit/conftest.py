"""A stand-in Prometheus: a real HTTP server on a free loopback port answering /api/v1/query
with whatever a test sets, so probes and guards are tested through their real HTTP client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


class FakePrometheus:
    def __init__(self) -> None:
        self.answer: Any = {"status": "success", "data": {"resultType": "vector", "result": []}}
        self.status = 200
        self.queries: list[str] = []
        self.url = ""

    def vector(self, *values: float) -> None:
        """Answer every query with one sample per value."""
        result = [
            {"metric": {"series": str(n)}, "value": [0, repr(v)]} for n, v in enumerate(values)
        ]
        self.answer = {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.queries.append(parse_qs(urlsplit(self.path).query)["query"][0])
            body = json.dumps(fake.answer).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The drill run directory the activities write to, in tmp_path."""
    monkeypatch.setenv("THREADLINE_CHAOS_RUN_DIR", str(tmp_path))
    return tmp_path
