"""Alertmanager webhook receiver that records every notification, for drills and `make verify`.

POST /alerts/<receiver>   Alertmanager's webhook payload; appended as one JSON line to the file
GET  /alerts              every recorded notification, as a JSON array (oldest first)
GET  /healthz             200 once listening

Standard library only, so the compose stack runs it on a stock Python image and the native
stack with the project's interpreter: `python recorder.py --port 9098 --file alerts.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_MAX_BODY = 1 << 20


class _Recorder(BaseHTTPRequestHandler):
    server_version = "threadline-alert-recorder"
    record_file: Path
    lock = threading.Lock()

    def do_POST(self) -> None:
        receiver = self.path.removeprefix("/alerts/").strip("/")
        if not self.path.startswith("/alerts/") or not receiver:
            self._reply(404, {"error": "POST to /alerts/<receiver>"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_BODY:
            self._reply(413 if length else 400, {"error": "expected a JSON body up to 1 MiB"})
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except json.JSONDecodeError as error:
            self._reply(400, {"error": f"body is not JSON: {error}"})
            return
        entry = {"received_at": time.time(), "receiver": receiver, "payload": payload}
        with self.lock, self.record_file.open("a") as handle:
            handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._reply(200, {"recorded": len(payload.get("alerts", []))})

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._reply(200, {"status": "ok"})
        elif self.path == "/alerts":
            with self.lock:
                lines = (
                    self.record_file.read_text().splitlines() if self.record_file.exists() else []
                )
            self._reply(200, [json.loads(line) for line in lines if line])
        else:
            self._reply(404, {"error": "GET /alerts or /healthz"})

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the record file is the log."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9098)
    parser.add_argument("--file", type=Path, default=Path("alerts.jsonl"))
    args = parser.parse_args()
    args.file.parent.mkdir(parents=True, exist_ok=True)
    _Recorder.record_file = args.file
    ThreadingHTTPServer((args.host, args.port), _Recorder).serve_forever()


if __name__ == "__main__":
    main()
