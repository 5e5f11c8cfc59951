"""The admin HTTP server: /metrics, /healthz, /readyz and /startupz on their own port.

It is a deliberately small HTTP/1.1 server on `asyncio.start_server`, running inside the
process's event loop: the gRPC service has no HTTP stack of its own, and a full ASGI server
would install its own signal handlers and fight the `ShutdownCoordinator`. Each connection
serves one GET and closes, which is all a Prometheus scraper or a kubelet probe needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import orjson
from prometheus_client.exposition import choose_encoder

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from observability.health import HealthRegistry, HealthReport

__all__ = ["AdminServer"]

_log = logging.getLogger(__name__)

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}
_MAX_HEADER_BYTES = 16 * 1024
_READ_TIMEOUT_SECONDS = 5.0


class AdminServer:
    """Serves the registry's metrics and the health probes on ``host:port``.

    ``port=0`` binds an ephemeral port; read it back from `port` after `start`.
    """

    def __init__(
        self,
        *,
        health: HealthRegistry,
        registry: CollectorRegistry | None,
        host: str = "0.0.0.0",
        port: int = 9100,
    ) -> None:
        self._health = health
        self._registry = registry
        self._host = host
        self._port = port
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
            status, content_type, body = await self._respond(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, content_type, body = 400, "text/plain; charset=utf-8", b"bad request\n"
        except ConnectionError:
            writer.close()
            return
        header = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        ).encode("latin-1")
        with contextlib.suppress(ConnectionError):
            writer.write(header + (b"" if head.startswith(b"HEAD ") else body))
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _respond(self, head: bytes) -> tuple[int, str, bytes]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return 400, "text/plain; charset=utf-8", b"bad request\n"
        method, target, _ = parts
        if method not in {"GET", "HEAD"}:
            return 405, "text/plain; charset=utf-8", b"method not allowed\n"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
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
            return 404, "text/plain; charset=utf-8", b"not found\n"
        return self._json(await probe())

    def _metrics(self, accept: str) -> tuple[int, str, bytes]:
        if self._registry is None:
            return 404, "text/plain; charset=utf-8", b"metrics are disabled\n"
        # choose_encoder picks OpenMetrics (the only format carrying exemplars) when asked.
        encoder, content_type = choose_encoder(accept)
        return 200, content_type, encoder(self._registry)

    @staticmethod
    def _json(report: HealthReport) -> tuple[int, str, bytes]:
        return (200 if report.ok else 503), "application/json", orjson.dumps(report.as_dict())
