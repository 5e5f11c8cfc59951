"""What one HTTP client may hold of the real server, over raw sockets.

One `user-service serve` process for the module, with the timeouts shortened to a second and
room for four connections, the size limits at their defaults: each test talks HTTP/1.1 to it
byte by byte, as a misbehaving client would.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from threadline_testing.plugin import DatabaseFactory
from threadline_testing.telemetry_sink import TelemetrySink
from user_service.adapters.migrations import upgrade_to_head

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 1.0
MAX_CONCURRENCY = 4


@dataclass(frozen=True)
class Server:
    port: int
    log_path: Path

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(
    postgres_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    telemetry_sink: TelemetrySink,
    service_starter: Callable[..., Any],
) -> Iterator[Server]:
    databases = DatabaseFactory(postgres_url)
    database_url = databases()
    upgrade_to_head(database_url)
    service = service_starter(
        database_url=database_url,
        redis_url=redis_url.rsplit("/", 1)[0] + "/15",
        workdir=tmp_path_factory.mktemp("http-limits"),
        telemetry=telemetry_sink.environment(),
        env={
            "USER_HTTP_HEADER_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
            "USER_HTTP_BODY_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
            "USER_HTTP_KEEPALIVE_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
            "USER_HTTP_MAX_CONCURRENCY": str(MAX_CONCURRENCY),
        },
    )
    try:
        assert service.process.poll() is None, service.log()
        yield Server(urlsplit(service.base_url).port or 80, service.log_path)
    finally:
        service.stop()
        databases.drop_all()


def read_until_closed(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout`)."""
    sock.settimeout(timeout)
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def answer(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the first response in ``data``."""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), headers, body


def send_and_read(server: Server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with server.connect() as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(request)
        return answer(read_until_closed(sock))


def jwks_request(extra_headers: bytes = b"", *, close: bool = True) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return (
        b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: user\r\n"
        + connection
        + extra_headers
        + b"\r\n"
    )


def test_an_ordinary_request_with_many_headers_is_served(server: Server) -> None:
    headers = b"".join(b"X-Fine-%d: %d\r\n" % (i, i) for i in range(90))
    status, _, body = send_and_read(server, jwks_request(headers))
    assert status == 200
    assert json.loads(body)["keys"]


def test_a_200_kb_header_is_refused_with_431_naming_the_setting(server: Server) -> None:
    status, headers, body = send_and_read(
        server, jwks_request(b"X-Big: " + b"a" * 200_000 + b"\r\n")
    )
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["status"] == 431
    assert "USER_HTTP_MAX_HEADER_BYTES" in problem["detail"]


def test_a_header_refused_before_its_end_arrives(server: Server) -> None:
    """The size is judged as bytes arrive: a header still being sent is refused mid-way."""
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: user\r\nX-Endless: " + b"a" * 32_768)
        status, _, body = answer(read_until_closed(sock))
    assert status == 431
    assert "USER_HTTP_MAX_HEADER_BYTES" in json.loads(body)["detail"]


def test_2000_headers_are_refused_with_431_naming_the_setting(server: Server) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    status, _, body = send_and_read(server, jwks_request(headers))
    assert status == 431
    assert "USER_HTTP_MAX_HEADERS" in json.loads(body)["detail"]


def test_a_request_target_over_the_limit_is_refused_with_414(server: Server) -> None:
    request = b"GET /v1/users/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: user\r\n\r\n"
    status, _, body = send_and_read(server, request)
    assert status == 414
    assert "USER_HTTP_MAX_REQUEST_LINE_BYTES" in json.loads(body)["detail"]


def test_headers_trickled_byte_by_byte_are_cut_off_with_408(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: user\r\n")
        sock.settimeout(0.2)
        data = b""
        # One byte every 0.2 s: each arrives well within any idle timeout, the head never ends.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 10 and not data:
                sock.sendall(b"x")
                with contextlib.suppress(TimeoutError):
                    data = sock.recv(65536)
        data += read_until_closed(sock)
    elapsed = time.monotonic() - started
    status, _, body = answer(data)
    assert status == 408
    assert "USER_HTTP_HEADER_TIMEOUT_SECONDS" in json.loads(body)["detail"]
    assert TIMEOUT_SECONDS <= elapsed < TIMEOUT_SECONDS + 2


def test_a_second_request_trickling_its_headers_on_a_kept_alive_connection_gets_408(
    server: Server,
) -> None:
    with server.connect() as sock:
        sock.sendall(jwks_request(close=False))
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(TIMEOUT_SECONDS / 2)
        # The second head's time runs from its own first byte, not from the connection's.
        started = time.monotonic()
        sock.sendall(b"GET /.well-known/jwks.json HTTP/1.1\r\n")
        sock.settimeout(0.2)
        data = b""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 10 and b"HTTP/1.1 408" not in data:
                sock.sendall(b"x")
                with contextlib.suppress(TimeoutError):
                    data += sock.recv(65536)
        elapsed = time.monotonic() - started
        data += read_until_closed(sock)
    assert b"HTTP/1.1 408 " in data
    assert b"USER_HTTP_HEADER_TIMEOUT_SECONDS" in data
    assert TIMEOUT_SECONDS <= elapsed < TIMEOUT_SECONDS + 2


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    server: Server,
) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        assert read_until_closed(sock) == b""
    assert TIMEOUT_SECONDS <= time.monotonic() - started < TIMEOUT_SECONDS + 2


def test_a_body_trickled_byte_by_byte_is_cut_off_with_408(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(
            b"POST /v1/users HTTP/1.1\r\nHost: user\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        sock.settimeout(0.2)
        data = b""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 10 and not data:
                sock.sendall(b" ")
                with contextlib.suppress(TimeoutError):
                    data = sock.recv(65536)
        data += read_until_closed(sock)
    elapsed = time.monotonic() - started
    status, headers, body = answer(data)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert "USER_HTTP_BODY_TIMEOUT_SECONDS" in json.loads(body)["detail"]
    assert TIMEOUT_SECONDS <= elapsed < TIMEOUT_SECONDS + 2


def test_a_body_the_app_does_not_read_closes_the_connection_after_the_answer(
    server: Server,
) -> None:
    with server.connect() as sock:
        sock.sendall(
            # Under USER_MAX_BODY_BYTES, so no 413: the body is merely never read.
            b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: user\r\nContent-Length: 60000\r\n\r\n"
            + b"x" * 10
        )
        started = time.monotonic()
        data = read_until_closed(sock)
    status, _, _ = answer(data)
    assert status == 200
    # Closed right after the answer, not after a timeout the trickle keeps resetting.
    assert time.monotonic() - started < TIMEOUT_SECONDS


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    server: Server,
) -> None:
    with server.connect() as sock:
        for _ in range(2):  # kept alive between requests...
            sock.sendall(jwks_request(close=False))
            sock.settimeout(5)
            data = sock.recv(65536)
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            status, headers, body = answer(data)
            while len(body) < int(headers["content-length"]):
                body += sock.recv(65536)
            assert status == 200
        started = time.monotonic()
        assert read_until_closed(sock) == b""  # ...and closed once idle
    assert TIMEOUT_SECONDS * 0.9 <= time.monotonic() - started < TIMEOUT_SECONDS + 2


def test_requests_beyond_the_concurrency_limit_are_answered_503(server: Server) -> None:
    held = [server.connect() for _ in range(MAX_CONCURRENCY - 1)]
    try:
        # Let the server register every connection before the next one asks.
        time.sleep(0.2)
        status, _, _ = send_and_read(server, jwks_request())
        assert status == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    status, _, _ = send_and_read(server, jwks_request())
    assert status == 200


def test_no_refusal_was_a_server_error(server: Server) -> None:
    log = server.log()
    assert '"level": "ERROR"' not in log
    assert "Traceback" not in log
