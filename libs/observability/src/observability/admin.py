"""The admin HTTP server: /metrics, /healthz, /readyz and /startupz on their own port.

It is a deliberately small HTTP/1.1 server on `asyncio.start_server`, running inside the
process's event loop: the gRPC service has no HTTP stack of its own, and a full ASGI server
would install its own signal handlers and fight the `ShutdownCoordinator`. Each connection
serves one request and closes, which is all a Prometheus scraper, a kubelet probe or an
operator's curl needs.

With a token, everything but the probes (/healthz, /livez, /readyz, /startupz: a kubelet or a
load balancer sends no credentials) asks for ``Authorization: Bearer <token>`` and answers 401
with ``WWW-Authenticate`` otherwise; the token is compared in constant time. Without a token,
reads are open as before, and a change (POST, PUT, DELETE under /admin: fault flags and runtime
controls, `observability.admin_routes`) is accepted from a loopback peer only: 403 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
from typing import TYPE_CHECKING, NamedTuple

import orjson
from prometheus_client.exposition import choose_encoder

from observability.admin_http import AdminRequest, Reply, problem
from observability.settings import is_loopback

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from observability.admin_http import AdminRoutes
    from observability.health import HealthRegistry, HealthReport

__all__ = ["AdminServer"]

_log = logging.getLogger(__name__)

_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    503: "Service Unavailable",
}
_MAX_HEADER_BYTES = 16 * 1024
#: The largest /admin request body: a fault flag is a few hundred bytes.
MAX_BODY_BYTES = 4 * 1024
_CHANGES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_ADMIN_PREFIX = "/admin/"
_READ_TIMEOUT_SECONDS = 5.0
_TEXT = "text/plain; charset=utf-8"
#: Open without a token: liveness, readiness and start-up probes carry no credentials.
PROBE_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/startupz"})


class _Head(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]


_Reply = Reply


def _digest(token: str) -> bytes:
    # Comparing digests keeps compare_digest's time independent of the token's length too.
    return hashlib.sha256(token.encode()).digest()


class AdminServer:
    """Serves the registry's metrics and the health probes on ``host:port``.

    ``port=0`` binds an ephemeral port; read it back from `port` after `start`. With ``token``,
    every path but `PROBE_PATHS` asks for ``Authorization: Bearer <token>``. ``routes`` serves
    the paths under /admin/ (`observability.admin_routes.ControlRoutes`).
    """

    def __init__(
        self,
        *,
        health: HealthRegistry,
        registry: CollectorRegistry | None,
        host: str = "0.0.0.0",
        port: int = 9100,
        token: str | None = None,
        routes: AdminRoutes | None = None,
    ) -> None:
        self._health = health
        self._registry = registry
        self._host = host
        self._port = port
        self._token_digest = _digest(token) if token else None
        self._routes = routes
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after binding port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in {"0.0.0.0", "::", ""} else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and start serving in the running loop."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, limit=_MAX_HEADER_BYTES
        )
        _log.info("admin server listening", extra={"admin.url": self.url})

    async def stop(self) -> None:
        """Stop serving; probes arriving later get connection refused."""
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b""
        try:
            async with asyncio.timeout(_READ_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
                reply = await self._respond(_parse_head(head), reader, _peer(writer))
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            reply = _Reply(400, _TEXT, b"bad request\n")
        except ConnectionError:
            writer.close()
            return
        extra = "".join(f"{name}: {value}\r\n" for name, value in reply.headers)
        header = (
            f"HTTP/1.1 {reply.status} {_REASONS[reply.status]}\r\n"
            f"Content-Type: {reply.content_type}\r\n"
            f"Content-Length: {len(reply.body)}\r\n"
            f"{extra}"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        ).encode("latin-1")
        with contextlib.suppress(ConnectionError):
            writer.write(header + (b"" if head.startswith(b"HEAD ") else reply.body))
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _respond(  # noqa: PLR0911 - one return per kind of path
        self, head: _Head | None, reader: asyncio.StreamReader, peer: str
    ) -> _Reply:
        if head is None:
            return _Reply(400, _TEXT, b"bad request\n")
        method, path, headers = head
        # Before anything else, so a caller without the token learns nothing about the paths.
        if path not in PROBE_PATHS:
            refusal = self._refuse_unauthorized(headers.get("authorization", ""))
            if refusal is not None:
                return refusal
        if path.startswith(_ADMIN_PREFIX) and self._routes is not None:
            return await self._admin(method, path, headers, reader, peer)
        if method not in {"GET", "HEAD"}:
            return _Reply(405, _TEXT, b"method not allowed\n")
        if path == "/metrics":
            return self._metrics(headers.get("accept", ""))
        probes = {
            "/healthz": self._health.liveness,
            "/livez": self._health.liveness,
            "/readyz": self._health.readiness,
            "/startupz": self._health.startup,
        }
        probe = probes.get(path)
        if probe is None:
            return _Reply(404, _TEXT, b"not found\n")
        return self._json(await probe())

    async def _admin(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        peer: str,
    ) -> _Reply:
        assert self._routes is not None
        if method in _CHANGES and self._token_digest is None and not is_loopback(peer):
            return problem(
                403,
                "without an admin token, changes are accepted from a loopback peer only "
                "(configure the admin token to change this process from elsewhere)",
            )
        if "transfer-encoding" in headers:
            return problem(400, "body: send it with Content-Length, not chunked", field="#")
        length = headers.get("content-length", "0")
        if not length.isdigit():
            return problem(400, "body: Content-Length is not a number", field="#")
        if int(length) > MAX_BODY_BYTES:
            return problem(400, f"body: larger than {MAX_BODY_BYTES} bytes", field="#")
        body = await reader.readexactly(int(length)) if int(length) else b""
        return await self._routes.handle(AdminRequest(method, path, body, peer))

    def _refuse_unauthorized(self, authorization: str) -> _Reply | None:
        """None when no token is configured or the right one came; the 401 otherwise."""
        if self._token_digest is None:
            return None
        scheme, _, credentials = authorization.partition(" ")
        given = credentials.strip() if scheme.lower() == "bearer" else ""
        if given and hmac.compare_digest(_digest(given), self._token_digest):
            return None
        challenge = 'Bearer realm="admin"' + (', error="invalid_token"' if given else "")
        return _Reply(
            401, _TEXT, b"a bearer token is required\n", (("WWW-Authenticate", challenge),)
        )

    def _metrics(self, accept: str) -> _Reply:
        if self._registry is None:
            return _Reply(404, _TEXT, b"metrics are disabled\n")
        # choose_encoder picks OpenMetrics (the only format carrying exemplars) when asked.
        encoder, content_type = choose_encoder(accept)
        return _Reply(200, content_type, encoder(self._registry))

    @staticmethod
    def _json(report: HealthReport) -> _Reply:
        return _Reply(200 if report.ok else 503, "application/json", orjson.dumps(report.as_dict()))


def _parse_head(head: bytes) -> _Head | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    method, target, _ = parts
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return _Head(method, target.split("?", 1)[0], headers)


def _peer(writer: asyncio.StreamWriter) -> str:
    """The peer's address (``""`` when unknown: then it counts as remote)."""
    peername = writer.get_extra_info("peername")
    if not isinstance(peername, tuple) or not peername:
        return ""
    address = str(peername[0])
    with contextlib.suppress(ValueError):
        mapped = getattr(ipaddress.ip_address(address), "ipv4_mapped", None)
        if mapped is not None:  # a dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1
            return str(mapped)
    return address
