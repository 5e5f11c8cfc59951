"""The synthetic probe is one well-formed two-service trace whose log lines carry its ids."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from threadline_native.verify.probe import PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE, send_probe


class _Capture(BaseHTTPRequestHandler):
    received: dict[str, Any]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received[self.path] = json.loads(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def collector() -> Iterator[tuple[str, dict[str, Any]]]:
    received: dict[str, Any] = {}
    handler = type("Handler", (_Capture,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def _service(resource: dict[str, Any]) -> str:
    return str(
        next(
            a["value"]["stringValue"] for a in resource["attributes"] if a["key"] == "service.name"
        )
    )


def test_probe_is_a_server_client_server_chain_across_two_services(
    collector: tuple[str, dict[str, Any]],
) -> None:
    url, received = collector
    probe = send_probe(url)
    assert probe.services == (PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE)
    spans = {
        _service(rs["resource"]): rs["scopeSpans"][0]["spans"]
        for rs in received["/v1/traces"]["resourceSpans"]
    }
    (server, client), (remote,) = spans[PROBE_CLIENT_SERVICE], spans[PROBE_SERVER_SERVICE]
    assert {s["traceId"] for s in (server, client, remote)} == {probe.trace_id}
    assert (server["kind"], client["kind"], remote["kind"]) == (2, 3, 2)
    assert server["parentSpanId"] == ""
    assert client["parentSpanId"] == server["spanId"]
    assert remote["parentSpanId"] == client["spanId"]


def test_every_probe_log_line_carries_the_trace_and_a_span_of_its_service(
    collector: tuple[str, dict[str, Any]],
) -> None:
    url, received = collector
    probe = send_probe(url)
    span_ids = {
        _service(rs["resource"]): {s["spanId"] for s in rs["scopeSpans"][0]["spans"]}
        for rs in received["/v1/traces"]["resourceSpans"]
    }
    for resource_logs in received["/v1/logs"]["resourceLogs"]:
        service = _service(resource_logs["resource"])
        records = resource_logs["scopeLogs"][0]["logRecords"]
        assert records
        for record in records:
            assert record["traceId"] == probe.trace_id
            assert record["spanId"] in span_ids[service]
