"""`make verify` against a stack that is not up names what is missing and stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from threadline_native.net import free_port
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.preflight import needed, preflight


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def healthy_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _all_on(port: int, **down: int) -> Endpoints:
    """Every backend on one healthy port, except those given (on a port nobody listens on)."""
    url = f"http://127.0.0.1:{port}"
    backends = (
        "collector_http",
        "jaeger",
        "victorialogs",
        "prometheus",
        "alertmanager",
        "alert_recorder",
    )
    fields = dict.fromkeys(backends, url)
    fields.update({name: f"http://127.0.0.1:{p}" for name, p in down.items()})
    return Endpoints(**fields)


def test_a_missing_backend_is_named_with_its_port_and_the_fix(healthy_port: int) -> None:
    closed = free_port()
    rows = preflight(_all_on(healthy_port, victorialogs=closed), Mode.NATIVE, services=False)
    assert [(r.subject, r.broken) for r in rows] == [("VictoriaLogs", True)]
    assert rows[0].detail == f"VictoriaLogs is not answering on :{closed}/health — run `make up`"


def test_when_every_backend_answers_one_ok_row_names_them(healthy_port: int) -> None:
    rows = preflight(_all_on(healthy_port), Mode.NATIVE, services=False)
    assert len(rows) == 1
    assert not rows[0].broken
    assert "VictoriaLogs" in rows[0].detail


def test_compose_adds_tempo_and_loki_and_the_journeys_add_the_services() -> None:
    native = {c.name for c in needed(Endpoints(), Mode.NATIVE, services=False)}
    compose = {c.name for c in needed(Endpoints(), Mode.COMPOSE, services=True)}
    assert {"Jaeger", "VictoriaLogs", "Prometheus"} <= native
    assert not {"Tempo", "Loki"} & native
    assert compose - native == {
        "Tempo",
        "Loki",
        "the user service",
        "the order service",
        "the order service's gRPC port",
    }
