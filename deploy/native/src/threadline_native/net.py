"""Loopback probes: is a port taken, by whom, and does the server there speak the right protocol."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import subprocess

LOOPBACK = "127.0.0.1"


def port_is_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def describe_listener(port: int) -> str:
    """Name the process listening on a port (as far as `ss` can tell), for error messages."""
    try:
        out = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "an unknown process"
    match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
    return f"{match[1]} (pid {match[2]})" if match else "an unknown process"


def redis_ping(port: int, host: str = LOOPBACK, timeout: float = 1.0) -> bool:
    """True when a Redis server answers PING without asking for a password."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def kafka_api_versions(port: int, host: str = LOOPBACK, timeout: float = 2.0) -> bool:
    """True when a Kafka broker answers an ApiVersions request (the handshake every client makes).

    ApiVersions v0 is the one request every broker since 0.10 accepts, with a header-v1 request
    and a header-v0 response: correlation id, then error code 0 when all is well.
    """
    correlation_id = 0x7468_726C  # "thrl"
    client_id = b"threadline-probe"
    header = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(header)) + header)
            size_bytes = _recv_exactly(sock, 4)
            (size,) = struct.unpack(">i", size_bytes)
            body = _recv_exactly(sock, min(size, 10))
    except (OSError, struct.error, ConnectionError):
        return False
    got_id, error_code = struct.unpack(">ih", body[:6])
    return bool(got_id == correlation_id and error_code == 0)


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.extend(chunk)
    return bytes(chunks)


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago (for tests)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port
