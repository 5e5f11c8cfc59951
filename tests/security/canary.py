"""A listener that records every connection made to it: the services' HTTP proxy in this suite.

Both services run with HTTP(S)_PROXY pointing here (loopback excepted, so their calls to each
other go direct). A token whose `kid` is a URL must not make either service fetch it: any
outbound HTTP request — to evil.example or anywhere else — would arrive here instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from threadline_native.net import free_port


class Canary:
    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def proxy_env(self) -> dict[str, str]:
        """Environment variables that send a process's outbound HTTP here (httpx honours them)."""
        env = {}
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            env[name] = env[name.upper()] = self.url
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    async def _record(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            self.requests.append(await asyncio.wait_for(reader.readline(), timeout=5))
        writer.close()

    async def __aenter__(self) -> Canary:
        self._server = await asyncio.start_server(self._record, "127.0.0.1", self.port)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
